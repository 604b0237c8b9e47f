SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, percentile_cont(%(param_2)s) WITHIN GROUP (ORDER BY rows.num) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, CASE WHEN (jsonb_typeof(e.properties -> %(param_3)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_4)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_3)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_4)s::VARCHAR) ~ %(param_5)s::VARCHAR)) THEN CAST(e.properties ->> %(param_4)s::VARCHAR AS NUMERIC) END AS num 
FROM events AS e 
WHERE e.team_id = %(param_6)s::INTEGER AND e.event = %(param_7)s::VARCHAR AND e.timestamp >= %(param_8)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_9)s::TIMESTAMP WITH TIME ZONE AND coalesce(e.mat_browser = ANY (%(param_10)s::TEXT[]), false)) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))

-- parameters
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- param_1 = 'UTC'
-- param_10 = ['Chrome', 'Safari']
-- param_2 = 0.9
-- param_3 = 'amount'
-- param_4 = 'amount'
-- param_5 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
-- param_6 = 1
-- param_7 = 'purchase'
-- param_8 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_9 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
