SELECT agency_id, identity, name, name_norm, province, city, county, province_code, city_code, county_code, level,
       place, region_note
FROM agency
ORDER BY agency_id
