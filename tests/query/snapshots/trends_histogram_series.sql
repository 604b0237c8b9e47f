SELECT w.bucket AS bucket, in_bucket.bv0, in_bucket.value 
FROM unnest(%(param_1)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_2)s::TIMESTAMP WITH TIME ZONE[], %(param_3)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT CASE WHEN (rows.bv0 IS NULL) THEN %(param_4)s::VARCHAR ELSE CAST(least(width_bucket(CAST(rows.bv0 AS FLOAT), %(param_5)s, %(param_6)s, %(param_7)s::INTEGER), %(param_8)s::INTEGER) AS TEXT) END AS bv0, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, CASE WHEN (jsonb_typeof(e.properties -> %(param_9)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_10)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_9)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_10)s::VARCHAR) ~ %(param_11)s::VARCHAR)) THEN CAST(e.properties ->> %(param_10)s::VARCHAR AS NUMERIC) END AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_12)s::INTEGER AND e.event = %(param_13)s::VARCHAR AND e.timestamp >= %(param_14)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_15)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end GROUP BY CASE WHEN (rows.bv0 IS NULL) THEN %(param_4)s::VARCHAR ELSE CAST(least(width_bucket(CAST(rows.bv0 AS FLOAT), %(param_5)s, %(param_6)s, %(param_7)s::INTEGER), %(param_8)s::INTEGER) AS TEXT) END) AS in_bucket ON true

-- parameters
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- param_1 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_10 = 'amount'
-- param_11 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
-- param_12 = 1
-- param_13 = '$pageview'
-- param_14 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_15 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_2 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_3 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_4 = '["",""]'
-- param_5 = 0.0
-- param_6 = 100.0
-- param_7 = 4
-- param_8 = 4
-- param_9 = 'amount'
