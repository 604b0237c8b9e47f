SELECT rows.bv0, count(*) AS n 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(nullif(e.properties ->> %(param_1)s::VARCHAR, %(param_2)s::VARCHAR), %(param_3)s::VARCHAR) AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_4)s::INTEGER AND e.event = %(param_5)s::VARCHAR AND e.timestamp >= %(param_6)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_7)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY rows.bv0 ORDER BY n DESC, rows.bv0 
 LIMIT %(param_8)s::INTEGER

-- parameters
-- param_1 = '$browser'
-- param_2 = ''
-- param_3 = '$$_posthog_breakdown_null_$$'
-- param_4 = 1
-- param_5 = '$pageview'
-- param_6 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_7 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_8 = 3
