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
    rl.label_en || CASE WHEN cl.label_en IS NULL THEN '' ELSE ' / ' || cl.label_en END AS label_en,
    r.source_url,
    c.report_id,
    r.agency_id,
    r.county_code,
    c.table_index,
    c.grid_row,
    c.grid_col,
    c.glued_run,
    coalesce(r.form = 'scan', false) AS ocr
FROM cell c
JOIN v_current_report r USING (report_id)
LEFT JOIN codebook rl ON rl.table_code = c.table_code AND rl.axis = 'row' AND rl.code = c.row_code
LEFT JOIN codebook cl ON cl.table_code = c.table_code AND cl.axis = 'col' AND cl.code = c.col_code;

-- Table 三 wide: one row per agency, year and row; applicant columns as columns.
CREATE OR REPLACE VIEW v_t3_wide AS
SELECT
    agency, year, layout, row_code, report_id,
    CAST(max(value) FILTER (col_code = 'natural_person') AS BIGINT) AS natural_person,
    CAST(max(value) FILTER (col_code = 'commercial') AS BIGINT)     AS commercial,
    CAST(max(value) FILTER (col_code = 'research') AS BIGINT)       AS research,
    CAST(max(value) FILTER (col_code = 'social_welfare') AS BIGINT) AS social_welfare,
    CAST(max(value) FILTER (col_code = 'legal_service') AS BIGINT)  AS legal_service,
    CAST(max(value) FILTER (col_code = 'other_org') AS BIGINT)      AS other_org,
    CAST(max(value) FILTER (col_code = 'total') AS BIGINT)          AS total
FROM v_cells
WHERE table_code = 't3'
GROUP BY agency, year, layout, row_code, report_id;

-- One row per current report: the headline numbers. A figure is NULL when any cell it is made
-- of is missing (left out as uncertain, or not printed) -- never a missing cell read as 0. A
-- row's 总计 printed blank while its applicant columns hold numbers is NULL too. `complete`
-- says every figure is there; status, failing rules and cells left out sit beside them.
-- Table 四's rates are per forum: corrected / (upheld + corrected + other) of that forum.
-- Each report's figures are computed from its cells where it is parsed (transform/figures.py)
-- and loaded with it into report_figures, so this view reads one row per report.
CREATE OR REPLACE VIEW v_summary AS
SELECT
    r.agency, r.year, r.layout, r.report_id, r.status,
    coalesce(a.failing_rules, []) AS failing_rules,
    r.agency_id,
    len(coalesce(r.uncertain, [])) AS cells_left_out,
    a.applications_received, a.carried_over, a.granted, a.partly_granted, a.denied, a.unable, a.rejected,
    a.other_handling, a.results_total, a.carried_forward,
    a.reviews, a.suits_direct, a.suits_after_review,
    a.suits_direct + a.suits_after_review AS lawsuits,
    a.review_corrected / nullif(a.review_upheld + a.review_corrected + a.review_other, 0) AS review_corrected_rate,
    a.review_upheld + a.review_corrected + a.review_other AS review_concluded,
    a.suit_direct_corrected / nullif(a.suit_direct_upheld + a.suit_direct_corrected + a.suit_direct_other, 0)
        AS suit_direct_corrected_rate,
    a.suit_direct_upheld + a.suit_direct_corrected + a.suit_direct_other AS suit_direct_concluded,
    a.suit_after_review_corrected
        / nullif(a.suit_after_review_upheld + a.suit_after_review_corrected + a.suit_after_review_other, 0)
        AS suit_after_review_corrected_rate,
    a.suit_after_review_upheld + a.suit_after_review_corrected + a.suit_after_review_other
        AS suit_after_review_concluded,
    a.denied / nullif(a.results_total, 0) AS denial_rate,
    (a.applications_received IS NOT NULL AND a.carried_over IS NOT NULL AND a.granted IS NOT NULL
     AND a.partly_granted IS NOT NULL AND a.denied IS NOT NULL AND a.unable IS NOT NULL AND a.rejected IS NOT NULL
     AND a.other_handling IS NOT NULL AND a.results_total IS NOT NULL AND a.carried_forward IS NOT NULL
     AND a.reviews IS NOT NULL AND a.suits_direct IS NOT NULL AND a.suits_after_review IS NOT NULL) AS complete
FROM v_current_report r
LEFT JOIN report_figures a USING (report_id)
WHERE r.status <> 'failed';

-- Year-over-year change per agency (the previous year is year - 1, not merely the previous row;
-- an agency is its id: two districts' namesakes are two histories).
CREATE OR REPLACE VIEW v_yoy AS
SELECT
    agency, agency_id, year,
    applications_received,
    max(applications_received) OVER prev AS applications_received_prev,
    applications_received - max(applications_received) OVER prev AS applications_change,
    reviews, max(reviews) OVER prev AS reviews_prev,
    lawsuits, max(lawsuits) OVER prev AS lawsuits_prev
FROM v_summary
WINDOW prev AS (PARTITION BY agency_id ORDER BY year RANGE BETWEEN 1 PRECEDING AND 1 PRECEDING);

-- Cross-year rules (warnings): x_carry and x_in_force.
CREATE OR REPLACE VIEW v_cross_year_warnings AS
SELECT 'x_carry' AS rule, cur.agency, cur.agency_id, cur.year, 'total' AS scope,
       prev.value AS expected, cur.value AS actual,
       'carried_over(' || cur.year || ') != carried_forward(' || (cur.year - 1) || ')' AS detail
FROM v_cells cur
JOIN v_cells prev ON prev.agency_id = cur.agency_id AND prev.year = cur.year - 1
 AND prev.table_code = 't3' AND prev.row_code = 'carried_forward' AND prev.col_code = 'total'
WHERE cur.table_code = 't3' AND cur.row_code = 'carried_over' AND cur.col_code = 'total'
  AND cur.value <> prev.value
UNION ALL
SELECT 'x_in_force', cur.agency, cur.agency_id, cur.year, cur.row_code,
       prev.value + issued.value - repealed.value, cur.value,
       'in_force(' || cur.year || ') != in_force(' || (cur.year - 1) || ') + issued - repealed'
FROM v_cells cur
JOIN v_cells prev ON prev.agency_id = cur.agency_id AND prev.year = cur.year - 1
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
