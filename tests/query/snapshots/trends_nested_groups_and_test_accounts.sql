SELECT w.bucket AS bucket, in_bucket.value 
FROM unnest(%(param_1)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_2)s::TIMESTAMP WITH TIME ZONE[], %(param_3)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e LEFT OUTER JOIN persons AS p ON p.team_id = e.team_id AND p.uuid = e.person_id 
WHERE e.team_id = %(param_4)s::INTEGER AND e.event = %(param_5)s::VARCHAR AND e.timestamp >= %(param_6)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_7)s::TIMESTAMP WITH TIME ZONE AND (coalesce((p.properties ->> %(param_8)s::VARCHAR) = %(param_9)s::VARCHAR, false) OR coalesce((e.properties ->> %(param_10)s::VARCHAR) ILIKE %(param_11)s::VARCHAR ESCAPE '\', false) AND coalesce(CASE WHEN (jsonb_typeof(e.properties -> %(param_12)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_13)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_12)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_13)s::VARCHAR) ~ %(param_14)s::VARCHAR)) THEN CAST(e.properties ->> %(param_13)s::VARCHAR AS NUMERIC) END >= %(param_15)s AND CASE WHEN (jsonb_typeof(e.properties -> %(param_12)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_13)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_12)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_13)s::VARCHAR) ~ %(param_14)s::VARCHAR)) THEN CAST(e.properties ->> %(param_13)s::VARCHAR AS NUMERIC) END <= %(param_16)s, false)) AND coalesce((p.properties ->> %(param_17)s::VARCHAR) NOT ILIKE %(param_18)s::VARCHAR ESCAPE '\', true)) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end 
HAVING count(*) > %(count_1)s::INTEGER) AS in_bucket ON true

-- parameters
-- count_1 = 0
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- param_1 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_10 = '$current_url'
-- param_11 = '%pricing%'
-- param_12 = 'amount'
-- param_13 = 'amount'
-- param_14 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
-- param_15 = 1.0
-- param_16 = 5.0
-- param_17 = 'email'
-- param_18 = '%@internal.com%'
-- param_2 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_3 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_4 = 1
-- param_5 = '$pageview'
-- param_6 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_7 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_8 = 'plan'
-- param_9 = 'pro'
