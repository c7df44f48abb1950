-- Every alias names an agency that exists, and no two agencies share an identity.
SELECT 'alias' AS kind, alias AS name FROM agency_alias ANTI JOIN agency USING (agency_id)
UNION ALL
SELECT 'identity', identity FROM agency WHERE identity IS NOT NULL GROUP BY identity HAVING count(*) > 1;
