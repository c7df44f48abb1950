-- Views for analysts. v_cells and its columns are a stable interface.

CREATE OR REPLACE VIEW v_current_report AS
SELECT r.*, a.name AS agency, a.province, a.city, a.county, a.county_code, a.level
FROM report r LEFT JOIN agency a USING (agency_id)
WHERE r.is_current;

CREATE OR REPLACE VIEW v_cells AS
SELECT
    r.agency,
    c.year,
    r.layout,
    c.table_code,
    c.row_code,
    c.col_code,
    c.value,
    c.empty,
    c.raw,
    rl.label_zh || CASE WHEN cl.label_zh IS NULL THEN '' ELSE ' / ' || cl.label_zh END AS label_zh,
    r.source_url,
    c.report_id,
    r.agency_id,
    r.county_code,
    c.table_index,
    c.grid_row,
    c.grid_col
FROM cell c
JOIN v_current_report r USING (report_id)
LEFT JOIN codebook rl ON rl.table_code = c.table_code AND rl.axis = 'row' AND rl.code = c.row_code
LEFT JOIN codebook cl ON cl.table_code = c.table_code AND cl.axis = 'col' AND cl.code = c.col_code;

-- Table 三 wide: one row per agency, year and row; applicant columns as columns.
CREATE OR REPLACE VIEW v_t3_wide AS
SELECT
    agency, year, layout, row_code, report_id,
    max(value) FILTER (col_code = 'natural_person') AS natural_person,
    max(value) FILTER (col_code = 'commercial')     AS commercial,
    max(value) FILTER (col_code = 'research')       AS research,
    max(value) FILTER (col_code = 'social_welfare') AS social_welfare,
    max(value) FILTER (col_code = 'legal_service')  AS legal_service,
    max(value) FILTER (col_code = 'other_org')      AS other_org,
    max(value) FILTER (col_code = 'total')          AS total
FROM v_cells
WHERE table_code = 't3'
GROUP BY agency, year, layout, row_code, report_id;

-- One row per agency and year: the headline numbers (read from the few cells they need).
CREATE OR REPLACE VIEW v_summary AS
WITH c AS (
    SELECT report_id, table_code, row_code, col_code, value
    FROM cell
    WHERE (table_code = 't3' AND col_code = 'total') OR table_code = 't4'
)
SELECT
    r.agency, r.year, r.layout, r.report_id,
    max(value) FILTER (table_code = 't3' AND row_code = 'new_received') AS applications_received,
    max(value) FILTER (table_code = 't3' AND row_code = 'granted') AS granted,
    max(value) FILTER (table_code = 't3' AND row_code = 'partly_granted') AS partly_granted,
    sum(value) FILTER (table_code = 't3' AND row_code LIKE 'denied_%') AS denied,
    max(value) FILTER (table_code = 't3' AND row_code = 'results_total') AS results_total,
    max(value) FILTER (table_code = 't4' AND row_code = 'review' AND col_code = 'total') AS reviews,
    sum(value) FILTER (table_code = 't4' AND row_code IN ('suit_direct', 'suit_after_review') AND col_code = 'total') AS lawsuits,
    sum(value) FILTER (table_code = 't4' AND col_code = 'corrected') AS corrected,
    sum(value) FILTER (table_code = 't4' AND col_code IN ('upheld', 'corrected', 'other')) AS concluded,
    CASE WHEN sum(value) FILTER (table_code = 't4' AND col_code IN ('upheld', 'corrected', 'other')) > 0
         THEN sum(value) FILTER (table_code = 't4' AND col_code = 'corrected')
              / sum(value) FILTER (table_code = 't4' AND col_code IN ('upheld', 'corrected', 'other'))
    END AS corrected_rate,
    CASE WHEN max(value) FILTER (table_code = 't3' AND row_code = 'results_total') > 0
         THEN sum(value) FILTER (table_code = 't3' AND row_code LIKE 'denied_%')
              / max(value) FILTER (table_code = 't3' AND row_code = 'results_total')
    END AS denial_rate
FROM v_current_report r
JOIN c USING (report_id)
GROUP BY r.agency, r.year, r.layout, r.report_id;

-- Year-over-year change per agency (the previous year is year - 1, not merely the previous row).
CREATE OR REPLACE VIEW v_yoy AS
SELECT
    agency, year,
    applications_received,
    max(applications_received) OVER prev AS applications_received_prev,
    applications_received - max(applications_received) OVER prev AS applications_change,
    reviews, max(reviews) OVER prev AS reviews_prev,
    lawsuits, max(lawsuits) OVER prev AS lawsuits_prev
FROM v_summary
WINDOW prev AS (PARTITION BY agency ORDER BY year RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING);

-- Cross-year rules (warnings): x_carry and x_in_force.
CREATE OR REPLACE VIEW v_cross_year_warnings AS
SELECT 'x_carry' AS rule, cur.agency, cur.year, 'total' AS scope,
       prev.value AS expected, cur.value AS actual,
       'carried_over(' || cur.year || ') != carried_forward(' || (cur.year - 1) || ')' AS detail
FROM v_cells cur
JOIN v_cells prev ON prev.agency = cur.agency AND prev.year = cur.year - 1
 AND prev.table_code = 't3' AND prev.row_code = 'carried_forward' AND prev.col_code = 'total'
WHERE cur.table_code = 't3' AND cur.row_code = 'carried_over' AND cur.col_code = 'total'
  AND cur.value <> prev.value
UNION ALL
SELECT 'x_in_force', cur.agency, cur.year, cur.row_code,
       prev.value + issued.value - repealed.value, cur.value,
       'in_force(' || cur.year || ') != in_force(' || (cur.year - 1) || ') + issued - repealed'
FROM v_cells cur
JOIN v_cells prev ON prev.agency = cur.agency AND prev.year = cur.year - 1
 AND prev.table_code = 't2' AND prev.row_code = cur.row_code AND prev.col_code = 'in_force'
JOIN v_cells issued ON issued.report_id = cur.report_id AND issued.table_code = 't2'
 AND issued.row_code = cur.row_code AND issued.col_code = 'issued'
JOIN v_cells repealed ON repealed.report_id = cur.report_id AND repealed.table_code = 't2'
 AND repealed.row_code = cur.row_code AND repealed.col_code = 'repealed'
WHERE cur.table_code = 't2' AND cur.col_code = 'in_force' AND cur.row_code IN ('rules', 'normative')
  AND cur.layout = '2021' AND prev.layout = '2021'
  AND abs(cur.value - (prev.value + issued.value - repealed.value)) > 1e-9;

-- Data quality: current reports that are not ok, fail a rule, or left cells out.
CREATE OR REPLACE VIEW v_data_quality AS
SELECT
    r.report_id, r.agency, r.year, r.layout, r.status, r.source_url,
    count(k.rule) FILTER (k.status = 'fail') AS failing_checks,
    list(DISTINCT k.rule) FILTER (k.status = 'fail') AS failing_rules,
    len(coalesce(r.uncertain, [])) AS cells_left_out,
    r.warnings
FROM v_current_report r
LEFT JOIN check_result k USING (report_id)
GROUP BY ALL
HAVING r.status <> 'ok' OR count(k.rule) FILTER (k.status = 'fail') > 0 OR len(coalesce(r.uncertain, [])) > 0;
