SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, CASE WHEN (rows.bv0 IS NULL) THEN %(param_2)s::VARCHAR ELSE CAST(least(width_bucket(CAST(rows.bv0 AS FLOAT), %(param_3)s, %(param_4)s, %(param_5)s::INTEGER), %(param_6)s::INTEGER) AS TEXT) END AS bv0, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, CASE WHEN (jsonb_typeof(e.properties -> %(param_7)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_8)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_7)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_8)s::VARCHAR) ~ %(param_9)s::VARCHAR)) THEN CAST(e.properties ->> %(param_8)s::VARCHAR AS NUMERIC) END AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_10)s::INTEGER AND e.event = %(param_11)s::VARCHAR AND e.timestamp >= %(param_12)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_13)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)), CASE WHEN (rows.bv0 IS NULL) THEN %(param_2)s::VARCHAR ELSE CAST(least(width_bucket(CAST(rows.bv0 AS FLOAT), %(param_3)s, %(param_4)s, %(param_5)s::INTEGER), %(param_6)s::INTEGER) AS TEXT) END

-- parameters
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- param_1 = 'UTC'
-- param_10 = 1
-- param_11 = '$pageview'
-- param_12 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_13 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_2 = '["",""]'
-- param_3 = 0.0
-- param_4 = 100.0
-- param_5 = 4
-- param_6 = 4
-- param_7 = 'amount'
-- param_8 = 'amount'
-- param_9 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
