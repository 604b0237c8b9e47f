WITH per_value AS 
(SELECT date_trunc('day', timezone(%(param_3)s::VARCHAR, rows.ts)) AS bucket, rows.bv0 AS bv0, count(*) AS n, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(nullif(e.mat_browser, %(param_4)s::VARCHAR), %(param_5)s::VARCHAR) AS bv0 
FROM events AS e 
WHERE e.team_id = %(param_6)s::INTEGER AND e.event = %(param_7)s::VARCHAR AND e.timestamp >= %(param_8)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_9)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('day', timezone(%(param_3)s::VARCHAR, rows.ts)), rows.bv0), 
ranked AS 
(SELECT per_value.bv0 AS bv0, row_number() OVER (ORDER BY sum(per_value.n) DESC, per_value.bv0) AS rank 
FROM per_value GROUP BY per_value.bv0)
 SELECT per_value.bucket AS bucket, CASE WHEN (ranked.rank <= %(param_1)s::INTEGER) THEN per_value.bv0 ELSE %(param_2)s::VARCHAR END AS bv0, (SELECT count(*) AS count_1 
FROM ranked) AS values_found, sum(per_value.value) AS value 
FROM per_value JOIN ranked ON ranked.bv0 = per_value.bv0 GROUP BY per_value.bucket, CASE WHEN (ranked.rank <= %(param_1)s::INTEGER) THEN per_value.bv0 ELSE %(param_2)s::VARCHAR END

-- parameters
-- param_1 = 2
-- param_2 = '$$_posthog_breakdown_other_$$'
-- param_3 = 'UTC'
-- param_4 = ''
-- param_5 = '$$_posthog_breakdown_null_$$'
-- param_6 = 1
-- param_7 = '$pageview'
-- param_8 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_9 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
