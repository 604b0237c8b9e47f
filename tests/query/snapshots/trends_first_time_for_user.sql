SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, count(*) AS value 
FROM (SELECT first_events.ts AS ts, first_events.person_id AS person_id, first_events.session_id AS session_id 
FROM (SELECT DISTINCT ON (e.person_id) e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id, coalesce((e.properties ->> %(param_2)s::VARCHAR) = %(param_3)s::VARCHAR, false) AS matches 
FROM events AS e 
WHERE e.team_id = %(param_4)s::INTEGER AND e.event = %(param_5)s::VARCHAR AND e.timestamp <= %(param_6)s::TIMESTAMP WITH TIME ZONE AND e.person_id IS NOT NULL ORDER BY e.person_id, e.timestamp) AS first_events 
WHERE first_events.matches AND first_events.ts >= %(param_7)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))

-- parameters
-- param_1 = 'UTC'
-- param_2 = '$browser'
-- param_3 = 'Chrome'
-- param_4 = 1
-- param_5 = 'signup'
-- param_6 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_7 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
