WITH marked AS 
(SELECT activity.person_id AS person_id, activity.period AS period, lag(activity.period) OVER (PARTITION BY activity.person_id ORDER BY activity.period) AS previous, lead(activity.period) OVER (PARTITION BY activity.person_id ORDER BY activity.period) AS next 
FROM (SELECT active.person_id AS person_id, active.bucket AS period 
FROM (SELECT w.bucket AS bucket, in_bucket.person_id AS person_id 
FROM unnest(%(param_7)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_8)s::TIMESTAMP WITH TIME ZONE[], %(param_9)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT rows.person_id AS person_id 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_10)s::INTEGER AND e.event = %(param_11)s::VARCHAR AND e.timestamp >= %(param_12)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_13)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end AND rows.person_id IS NOT NULL GROUP BY rows.person_id) AS in_bucket ON true) AS active) AS activity)
 SELECT marked.period AS period, CASE WHEN (marked.previous IS NULL AND NOT (EXISTS (SELECT * 
FROM person_event_first_seen AS f 
WHERE f.team_id = %(param_1)s::INTEGER AND f.event = %(param_2)s::VARCHAR AND f.first_ts < %(param_3)s::TIMESTAMP WITH TIME ZONE AND f.person_id = marked.person_id))) THEN %(param_4)s::VARCHAR WHEN (marked.previous = marked.period - interval '1 day') THEN %(param_5)s::VARCHAR ELSE %(param_6)s::VARCHAR END AS status, count(*) AS n 
FROM marked 
WHERE marked.period >= %(param_14)s::TIMESTAMP WITHOUT TIME ZONE GROUP BY marked.period, CASE WHEN (marked.previous IS NULL AND NOT (EXISTS (SELECT * 
FROM person_event_first_seen AS f 
WHERE f.team_id = %(param_1)s::INTEGER AND f.event = %(param_2)s::VARCHAR AND f.first_ts < %(param_3)s::TIMESTAMP WITH TIME ZONE AND f.person_id = marked.person_id))) THEN %(param_4)s::VARCHAR WHEN (marked.previous = marked.period - interval '1 day') THEN %(param_5)s::VARCHAR ELSE %(param_6)s::VARCHAR END UNION ALL SELECT marked.period + interval '1 day' AS period, %(param_15)s::VARCHAR AS status, -count(*) AS n 
FROM marked 
WHERE (marked.next IS NULL OR marked.next > marked.period + interval '1 day') AND marked.period + interval '1 day' >= %(param_14)s::TIMESTAMP WITHOUT TIME ZONE AND marked.period + interval '1 day' <= %(param_16)s::TIMESTAMP WITHOUT TIME ZONE GROUP BY marked.period + interval '1 day'

-- parameters
-- param_1 = 1
-- param_10 = 1
-- param_11 = '$pageview'
-- param_12 = datetime.datetime(2024, 3, 6, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_13 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_14 = datetime.datetime(2024, 3, 7, 0, 0)
-- param_15 = 'dormant'
-- param_16 = datetime.datetime(2024, 3, 14, 0, 0)
-- param_2 = '$pageview'
-- param_3 = datetime.datetime(2024, 3, 6, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_4 = 'new'
-- param_5 = 'returning'
-- param_6 = 'resurrecting'
-- param_7 = [datetime.datetime(2024, 3, 6, 0, 0), datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_8 = [datetime.datetime(2024, 3, 6, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_9 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
