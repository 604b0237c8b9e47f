SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, CASE WHEN (rows.bv0 = ANY (%(param_2)s::TEXT[])) THEN rows.bv0 ELSE %(param_3)s::VARCHAR END AS bv0, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(nullif(e.mat_browser, %(param_4)s::VARCHAR), %(param_5)s::VARCHAR) AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_6)s::INTEGER AND e.event = %(param_7)s::VARCHAR AND e.timestamp >= %(param_8)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_9)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)), CASE WHEN (rows.bv0 = ANY (%(param_2)s::TEXT[])) THEN rows.bv0 ELSE %(param_3)s::VARCHAR END

-- parameters
-- param_1 = 'UTC'
-- param_2 = ['Chrome', 'Firefox']
-- param_3 = '$$_posthog_breakdown_other_$$'
-- param_4 = ''
-- param_5 = '$$_posthog_breakdown_null_$$'
-- param_6 = 1
-- param_7 = '$pageview'
-- param_8 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_9 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
