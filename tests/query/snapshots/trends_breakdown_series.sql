SELECT w.bucket AS bucket, in_bucket.bv0, in_bucket.value 
FROM unnest(%(param_1)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_2)s::TIMESTAMP WITH TIME ZONE[], %(param_3)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT CASE WHEN (rows.bv0 = ANY (%(param_4)s::TEXT[])) THEN rows.bv0 ELSE %(param_5)s::VARCHAR END AS bv0, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(nullif(e.properties ->> %(param_6)s::VARCHAR, %(param_7)s::VARCHAR), %(param_8)s::VARCHAR) AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_9)s::INTEGER AND e.event = %(param_10)s::VARCHAR AND e.timestamp >= %(param_11)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_12)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end GROUP BY CASE WHEN (rows.bv0 = ANY (%(param_4)s::TEXT[])) THEN rows.bv0 ELSE %(param_5)s::VARCHAR END) AS in_bucket ON true

-- parameters
-- param_1 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_10 = '$pageview'
-- param_11 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_12 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_2 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_3 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_4 = ['Chrome', 'Firefox']
-- param_5 = '$$_posthog_breakdown_other_$$'
-- param_6 = '$browser'
-- param_7 = ''
-- param_8 = '$$_posthog_breakdown_null_$$'
-- param_9 = 1
