SELECT per_person.active, count(*) AS actors 
FROM (SELECT per_period.person_id AS person_id, CAST(count(*) AS INTEGER) AS active 
FROM (SELECT rows.person_id AS person_id, date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS period, count(*) AS n 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_2)s::INTEGER AND e.event = %(param_3)s::VARCHAR AND e.timestamp >= %(param_4)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_5)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.person_id IS NOT NULL GROUP BY rows.person_id, date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))) AS per_period GROUP BY per_period.person_id) AS per_person GROUP BY per_person.active

-- parameters
-- param_1 = 'UTC'
-- param_2 = 1
-- param_3 = '$pageview'
-- param_4 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_5 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
