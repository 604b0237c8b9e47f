SELECT per_person.active, count(*) AS actors 
FROM (SELECT active_periods.person_id AS person_id, CAST(count(*) AS INTEGER) AS active 
FROM (SELECT per_bucket.person_id AS person_id 
FROM (SELECT w.bucket AS bucket, in_bucket.person_id AS person_id, in_bucket.n AS n 
FROM unnest(%(param_1)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_2)s::TIMESTAMP WITH TIME ZONE[], %(param_3)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT rows.person_id AS person_id, count(*) AS n 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_4)s::INTEGER AND e.event = %(param_5)s::VARCHAR AND e.timestamp >= %(param_6)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_7)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end AND rows.person_id IS NOT NULL GROUP BY rows.person_id) AS in_bucket ON true) AS per_bucket) AS active_periods GROUP BY active_periods.person_id) AS per_person GROUP BY per_person.active

-- parameters
-- param_1 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_2 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_3 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_4 = 1
-- param_5 = '$pageview'
-- param_6 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_7 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
