-- Schema version 4: an agency is an identity (region code and its name without the places
-- leading it), not a printed name; a report is (agency, year).
--
-- The printed name is no longer unique (two districts' 区科工信局 are two agencies), so the
-- agency table is rebuilt without that constraint. `identity` is filled by gongkai when the
-- warehouse is opened for writing (it needs the region table); agencies that turn out to be
-- one are merged then.
CREATE TABLE agency_v4 (
    agency_id      INTEGER PRIMARY KEY,
    identity       VARCHAR,                   -- "code|core name", "|name" when no region is known
    name           VARCHAR NOT NULL,          -- as the report's title prints it (the first seen)
    name_norm      VARCHAR NOT NULL,          -- NFKC, no whitespace
    province       VARCHAR,
    city           VARCHAR,
    county         VARCHAR,
    province_code  VARCHAR,                   -- 6-digit 行政区划代码
    city_code      VARCHAR,
    county_code    VARCHAR,
    level          VARCHAR NOT NULL,          -- government | department | township_street
    place          VARCHAR,                   -- what else said where it is (its source's owner)
    region_note    VARCHAR                    -- why the region is unresolved (e.g. the candidates)
);
INSERT INTO agency_v4 (agency_id, name, name_norm, province, city, county, province_code, city_code, county_code,
                       level)
SELECT agency_id, name, name_norm, province, city, county, province_code, city_code, county_code, level
FROM agency;
DROP TABLE agency;
ALTER TABLE agency_v4 RENAME TO agency;

-- Where the report came from, by its source (the owner): a re-parse resolves namesakes with it.
ALTER TABLE report ADD COLUMN place VARCHAR;

-- A report is its agency and year: keys move from names to agency ids.
UPDATE report SET report_key = 'agency:' || agency_id || '|' || year
WHERE agency_id IS NOT NULL AND year IS NOT NULL AND NOT starts_with(report_key, 'failed:');
