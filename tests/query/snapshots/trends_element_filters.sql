SELECT date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts)) AS bucket, count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_2)s::INTEGER AND e.event = %(param_3)s::VARCHAR AND e.timestamp >= %(param_4)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_5)s::TIMESTAMP WITH TIME ZONE AND (EXISTS (SELECT %(param_6)s::INTEGER AS anon_1 
FROM regexp_matches(e.elements_chain, %(param_7)s::VARCHAR, %(regexp_matches_1)s::VARCHAR) AS m 
WHERE replace(m[%(m_1)s::INTEGER], %(replace_1)s::VARCHAR, %(replace_2)s::VARCHAR) = ANY (%(param_8)s::TEXT[]))) AND (e.elements_chain ~ %(param_9)s::VARCHAR)) AS rows GROUP BY date_trunc('day', timezone(%(param_1)s::VARCHAR, rows.ts))

-- parameters
-- m_1 = 1
-- param_1 = 'UTC'
-- param_2 = 1
-- param_3 = '$pageview'
-- param_4 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_5 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_6 = 1
-- param_7 = '[":]text="((?:[^"\\\\]|\\\\.)*)"'
-- param_8 = ['Sign up']
-- param_9 = '(^|;)a(\\.[^.:;"]+)*\\.nav(\\.[^.:;"]+)*(:|;|$).*(^|;)div(\\.[^.:;"]+)*(:|;|$)'
-- regexp_matches_1 = 'g'
-- replace_1 = '\\"'
-- replace_2 = '"'
