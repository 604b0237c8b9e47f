SELECT count(*) AS value 
FROM (SELECT e.timestamp AS ts, e.person_id AS person_id, e."$session_id" AS session_id 
FROM events AS e 
WHERE e.team_id = %(param_1)s::INTEGER AND (e.event = %(param_2)s::VARCHAR AND coalesce(CASE WHEN (jsonb_typeof(e.properties -> %(param_3)s::VARCHAR) = %(jsonb_typeof_1)s::VARCHAR) THEN CAST(e.properties ->> %(param_4)s::VARCHAR AS NUMERIC) WHEN (jsonb_typeof(e.properties -> %(param_3)s::VARCHAR) = %(jsonb_typeof_2)s::VARCHAR AND ((e.properties ->> %(param_4)s::VARCHAR) ~ %(param_5)s::VARCHAR)) THEN CAST(e.properties ->> %(param_4)s::VARCHAR AS NUMERIC) END > %(param_6)s, false) OR e.event = %(param_7)s::VARCHAR AND (EXISTS (SELECT %(param_8)s::INTEGER AS anon_1 
FROM regexp_matches(e.elements_chain, %(param_9)s::VARCHAR, %(regexp_matches_1)s::VARCHAR) AS m 
WHERE replace(m[%(m_1)s::INTEGER], %(replace_1)s::VARCHAR, %(replace_2)s::VARCHAR) = ANY (%(param_10)s::TEXT[]))) AND (e.elements_chain ~ %(param_11)s::VARCHAR) OR e.event = %(param_12)s::VARCHAR AND e.mat_current_url LIKE %(param_13)s::VARCHAR ESCAPE '\') AND e.timestamp >= %(param_14)s::TIMESTAMP WITH TIME ZONE AND e.timestamp <= %(param_15)s::TIMESTAMP WITH TIME ZONE) AS rows

-- parameters
-- jsonb_typeof_1 = 'number'
-- jsonb_typeof_2 = 'string'
-- m_1 = 1
-- param_1 = 1
-- param_10 = ['Buy']
-- param_11 = '(^|;)button(\\.[^.:;"]+)*\\.buy(\\.[^.:;"]+)*(:|;|$).*(^|;)form(\\.[^.:;"]+)*(:|;|$)'
-- param_12 = '$pageview'
-- param_13 = '%/checkout%'
-- param_14 = datetime.datetime(2024, 3, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_15 = datetime.datetime(2024, 3, 14, 23, 59, 59, 999999, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
-- param_2 = 'purchase'
-- param_3 = 'amount'
-- param_4 = 'amount'
-- param_5 = '^\\s*[-+]?([0-9]{1,60}(\\.[0-9]{0,60})?|\\.[0-9]{1,60})([eE][-+]?[0-9]{1,3})?\\s*$'
-- param_6 = 10.0
-- param_7 = '$autocapture'
-- param_8 = 1
-- param_9 = '[":]text="((?:[^"\\\\]|\\\\.)*)"'
-- regexp_matches_1 = 'g'
-- replace_1 = '\\"'
-- replace_2 = '"'
