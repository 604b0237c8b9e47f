SELECT per_actor.bucket, avg(per_actor.n) AS value 
FROM (SELECT date_trunc('week', timezone(%(param_1)s::VARCHAR, rows.ts) + interval '1 day') - interval '1 day' AS bucket, rows.person_id AS person_id, count(*) AS n 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_2)s::INTEGER AND e.event = %(param_3)s::VARCHAR AND e.timestamp >= %(param_4)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_5)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('week', timezone(%(param_1)s::VARCHAR, rows.ts) + interval '1 day') - interval '1 day', rows.person_id) AS per_actor GROUP BY per_actor.bucket

-- parameters
-- param_1 = 'UTC'
-- param_2 = 1
-- param_3 = '$pageview'
-- param_4 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_5 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
