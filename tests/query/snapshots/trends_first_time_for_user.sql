SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, count(*) AS value 
FROM (SELECT first_events.ts AS ts, first_events.person_id AS person_id, first_events.session_id AS session_id 
FROM (SELECT DISTINCT ON (e.person_id) e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce(e.mat_browser = %(param_2)s::VARCHAR, false) AS matches 
FROM events AS e 
WHERE e.team_id = %(param_3)s::INTEGER AND e.event = %(param_4)s::VARCHAR AND e.timestamp <= %(param_5)s::TIMESTAMP WITH TIME ZONE AND e.person_id IS NOT NULL ORDER BY e.person_id, e.timestamp) AS first_events 
WHERE first_events.matches AND first_events.ts >= %(param_6)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))

-- parameters
-- param_1 = 'UTC'
-- param_2 = 'Chrome'
-- param_3 = 1
-- param_4 = 'signup'
-- param_5 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_6 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
