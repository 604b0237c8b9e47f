SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e LEFT OUTER JOIN persons AS p ON p.team_id = e.team_id AND p.uuid = e.person_id 
WHERE e.team_id = %(param_2)s::INTEGER AND e.event = %(param_3)s::VARCHAR AND e.timestamp >= %(param_4)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_5)s::TIMESTAMP WITH TIME ZONE AND (coalesce((p.properties ->> %(param_6)s::VARCHAR) = %(param_7)s::VARCHAR, false) OR coalesce(e.mat_current_url ILIKE %(param_8)s::VARCHAR ESCAPE '\', false) AND coalesce(CASE WHEN (jsonb_typeof(e.properties -> %(param_9)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_10)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_9)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_10)s::VARCHAR) ~ %(param_11)s::VARCHAR)) THEN CAST(e.properties ->> %(param_10)s::VARCHAR AS NUMERIC) END >= %(param_12)s AND CASE WHEN (jsonb_typeof(e.properties -> %(param_9)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_10)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_9)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_10)s::VARCHAR) ~ %(param_11)s::VARCHAR)) THEN CAST(e.properties ->> %(param_10)s::VARCHAR AS NUMERIC) END <= %(param_13)s, false)) AND coalesce((p.properties ->> %(param_14)s::VARCHAR) NOT ILIKE %(param_15)s::VARCHAR ESCAPE '\', true)) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))

-- parameters
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- param_1 = 'UTC'
-- param_10 = 'amount'
-- param_11 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
-- param_12 = 1.0
-- param_13 = 5.0
-- param_14 = 'email'
-- param_15 = '%@internal.com%'
-- param_2 = 1
-- param_3 = '$pageview'
-- param_4 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_5 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_6 = 'plan'
-- param_7 = 'pro'
-- param_8 = '%pricing%'
-- param_9 = 'amount'
