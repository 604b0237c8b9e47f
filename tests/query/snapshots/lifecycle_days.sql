WITH activity AS 
(SELECT DISTINCT rows.person_id AS person_id, date_trunc('day', timezone(%(param_5)s::VARCHAR, rows.ts)) AS period 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_6)s::INTEGER AND e.event = %(param_7)s::VARCHAR AND e.timestamp >= %(param_8)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_9)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.person_id IS NOT NULL), 
marked AS 
(SELECT activity.person_id AS person_id, activity.period AS period, lag(activity.period) OVER (PARTITION BY activity.person_id ORDER BY activity.period) AS previous, lead(activity.period) OVER (PARTITION BY activity.person_id ORDER BY activity.period) AS next, date_trunc('day', timezone(%(param_4)s::VARCHAR, first_seen.first_ts)) AS first_period 
FROM activity JOIN (SELECT rows.person_id AS person_id, min(rows.ts) AS first_ts 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_10)s::INTEGER AND e.event = %(param_11)s::VARCHAR AND e.timestamp <= %(param_12)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.person_id IN (SELECT activity.person_id 
FROM activity) GROUP BY rows.person_id) AS first_seen ON first_seen.person_id = activity.person_id)
 SELECT marked.period AS period, CASE WHEN (marked.period = marked.first_period) THEN %(param_1)s::VARCHAR WHEN (marked.previous = marked.period - interval '1 day') THEN %(param_2)s::VARCHAR ELSE %(param_3)s::VARCHAR END AS status, count(*) AS n 
FROM marked 
WHERE marked.period >= %(param_13)s::TIMESTAMP WITHOUT TIME ZONE GROUP BY marked.period, CASE WHEN (marked.period = marked.first_period) THEN %(param_1)s::VARCHAR WHEN (marked.previous = marked.period - interval '1 day') THEN %(param_2)s::VARCHAR ELSE %(param_3)s::VARCHAR END UNION ALL SELECT marked.period + interval '1 day' AS period, %(param_14)s::VARCHAR AS status, -count(*) AS n 
FROM marked 
WHERE (marked.next IS NULL OR marked.next > marked.period + interval '1 day') AND marked.period + interval '1 day' >= %(param_13)s::TIMESTAMP WITHOUT TIME ZONE AND marked.period + interval '1 day' <= %(param_15)s::TIMESTAMP WITHOUT TIME ZONE GROUP BY marked.period + interval '1 day'

-- parameters
-- param_1 = 'new'
-- param_10 = 1
-- param_11 = '$pageview'
-- param_12 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_13 = datetime.datetime(2024, 3, 7, 0, 0)
-- param_14 = 'dormant'
-- param_15 = datetime.datetime(2024, 3, 14, 0, 0)
-- param_2 = 'returning'
-- param_3 = 'resurrecting'
-- param_4 = 'UTC'
-- param_5 = 'UTC'
-- param_6 = 1
-- param_7 = '$pageview'
-- param_8 = datetime.datetime(2024, 3, 6, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_9 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
