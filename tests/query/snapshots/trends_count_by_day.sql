SELECT w.bucket AS bucket, in_bucket.value 
FROM unnest(%(param_1)s::TIMESTAMP WITHOUT TIME ZONE[], %(param_2)s::TIMESTAMP WITH TIME ZONE[], %(param_3)s::TIMESTAMP WITH TIME ZONE[]) AS w(bucket, window_start, window_end) JOIN LATERAL (SELECT count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_4)s::INTEGER AND e.event = %(param_5)s::VARCHAR AND e.timestamp >= %(param_6)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_7)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.ts >= w.window_start AND rows.ts < w.window_end 
HAVING count(*) > %(count_1)s::INTEGER) AS in_bucket ON true

-- parameters
-- count_1 = 0
-- param_1 = [datetime.datetime(2024, 3, 7, 0, 0), datetime.datetime(2024, 3, 8, 0, 0), datetime.datetime(2024, 3, 9, 0, 0), datetime.datetime(2024, 3, 10, 0, 0), datetime.datetime(2024, 3, 11, 0, 0), datetime.datetime(2024, 3, 12, 0, 0), datetime.datetime(2024, 3, 13, 0, 0), datetime.datetime(2024, 3, 14, 0, 0)]
-- param_2 = [datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_3 = [datetime.datetime(2024, 3, 8, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 9, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 10, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 11, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 12, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), datetime.datetime(2024, 3, 15, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
-- param_4 = 1
-- param_5 = '$pageview'
-- param_6 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_7 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
