SELECT w.bucket AS bucket, in_bucket.value 
FROM unnest(%(param_1)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_2)s::TIMESTAMP WITH TIME ZONE[], %(param_3)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT percentile_cont(%(param_4)s) WITHIN GROUP (ORDER BY rows.num) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, CASE WHEN (jsonb_typeof(e.properties -> %(param_5)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_6)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_5)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_6)s::VARCHAR) ~ %(param_7)s::VARCHAR)) THEN CAST(e.properties ->> %(param_6)s::VARCHAR AS NUMERIC) END AS num 
FROM events AS e 
WHERE e.team_id = %(param_8)s::INTEGER AND e.event = %(param_9)s::VARCHAR AND e.timestamp >= %(param_10)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_11)s::TIMESTAMP WITH TIME ZONE AND coalesce((e.properties ->> %(param_12)s::VARCHAR) = ANY (%(param_13)s::TEXT[]), false)) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end 
HAVING count(*) > %(count_1)s::INTEGER) AS in_bucket ON true

-- parameters
-- count_1 = 0
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- param_1 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_10 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_11 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_12 = '$browser'
-- param_13 = ['Chrome', 'Safari']
-- param_2 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_3 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_4 = 0.9
-- param_5 = 'amount'
-- param_6 = 'amount'
-- param_7 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
-- param_8 = 1
-- param_9 = 'purchase'
