SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, count(DISTINCT rows.person_id) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_2)s::INTEGER AND e.event = %(param_3)s::VARCHAR AND e.timestamp >= %(param_4)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_5)s::TIMESTAMP WITH TIME ZONE) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))

-- parameters
-- param_1 = 'Asia/Kolkata'
-- param_2 = 1
-- param_3 = '$pageview'
-- param_4 = datetime.datetime(2024, 2, 13, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Kolkata'))
-- param_5 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='Asia/Kolkata'))
