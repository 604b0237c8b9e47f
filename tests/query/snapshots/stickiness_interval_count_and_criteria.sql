SELECT per_person.active, count(*) AS actors 
FROM (SELECT active_periods.person_id AS person_id, CAST(count(*) AS INTEGER) AS active 
FROM (SELECT per_period.person_id AS person_id 
FROM (SELECT rows.person_id AS person_id, floor(floor(EXTRACT(epoch FROM %(param_1)s::TIMESTAMP WITHOUT TIME ZONE - timezone(%(param_2)s::VARCHAR, rows.ts)) / CAST(%(param_3)s::INTEGER AS NUMERIC)) / CAST(%(floor_1)s::INTEGER AS NUMERIC)) AS period, count(*) AS n 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_4)s::INTEGER AND e.event = %(param_5)s::VARCHAR AND e.timestamp >= %(param_6)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_7)s::TIMESTAMP WITH TIME ZONE) AS rows 
WHERE rows.person_id IS NOT NULL GROUP BY rows.person_id, floor(floor(EXTRACT(epoch FROM %(param_1)s::TIMESTAMP WITHOUT TIME ZONE - timezone(%(param_2)s::VARCHAR, rows.ts)) / CAST(%(param_3)s::INTEGER AS NUMERIC)) / CAST(%(floor_1)s::INTEGER AS NUMERIC))) AS per_period 
WHERE per_period.n >= %(n_1)s::INTEGER) AS active_periods GROUP BY active_periods.person_id) AS per_person GROUP BY per_person.active

-- parameters
-- floor_1 = 2
-- n_1 = 3
-- param_1 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999)
-- param_2 = 'America/Los_Angeles'
-- param_3 = 604800
-- param_4 = 1
-- param_5 = '$pageview'
-- param_6 = datetime.datetime(2024, 1, 14, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='America/Los_Angeles'))
-- param_7 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='America/Los_Angeles'))
