SELECT agency_id, name, name_norm, province, city, county, province_code, city_code, county_code, level
FROM agency
ORDER BY agency_id
