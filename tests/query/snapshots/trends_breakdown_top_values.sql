SELECT rows.bv0, count(*) AS n 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(nullif(e.mat_browser, %(param_1)s::VARCHAR), %(param_2)s::VARCHAR) AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_3)s::INTEGER AND e.event = %(param_4)s::VARCHAR AND e.timestamp >= %(param_5)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_6)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY rows.bv0 ORDER BY n DESC, rows.bv0 
 LIMIT %(param_7)s::INTEGER

-- parameters
-- param_1 = ''
-- param_2 = '$$_posthog_breakdown_null_$$'
-- param_3 = 1
-- param_4 = '$pageview'
-- param_5 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_6 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_7 = 3
