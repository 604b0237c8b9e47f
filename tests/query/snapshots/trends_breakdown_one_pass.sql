WITH per_value AS 
(SELECT w.bucket AS bucket, in_bucket.bv0 AS bv0, in_bucket.n AS n, in_bucket.value AS value 
FROM unnest(%(param_3)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_4)s::TIMESTAMP WITH TIME ZONE[], %(param_5)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT rows.bv0 AS bv0, count(*) AS n, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(nullif(e.properties ->> %(param_6)s::VARCHAR, %(param_7)s::VARCHAR), %(param_8)s::VARCHAR) AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_9)s::INTEGER AND e.event = %(param_10)s::VARCHAR AND e.timestamp >= %(param_11)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_12)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end GROUP BY rows.bv0) AS in_bucket ON true), 
ranked AS 
(SELECT per_value.bv0 AS bv0, row_number() OVER (ORDER BY sum(per_value.n) DESC, per_value.bv0) AS rank 
FROM per_value GROUP BY per_value.bv0)
 SELECT per_value.bucket AS bucket, CASE WHEN (ranked.rank <= %(param_1)s::INTEGER) THEN per_value.bv0 ELSE %(param_2)s::VARCHAR END AS bv0, (SELECT count(*) AS count_1 
FROM ranked) AS values_found, sum(per_value.value) AS value 
FROM per_value JOIN ranked ON ranked.bv0 = per_value.bv0 GROUP BY per_value.bucket, CASE WHEN (ranked.rank <= %(param_1)s::INTEGER) THEN per_value.bv0 ELSE %(param_2)s::VARCHAR END

-- parameters
-- param_1 = 2
-- param_10 = '$pageview'
-- param_11 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_12 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_2 = '$$_posthog_breakdown_other_$$'
-- param_3 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_4 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_5 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_6 = '$browser'
-- param_7 = ''
-- param_8 = '$$_posthog_breakdown_null_$$'
-- param_9 = 1
