-- Schema version 6: the headline figures of each report version (transform/figures.py),
-- computed where the report is parsed and loaded with it, so that v_summary and v_yoy read
-- one row per report instead of aggregating every cell of the warehouse. gongkai fills the
-- table for the reports already loaded right after this migration (sql/figures.sql, from
-- their stored cells and checks).
CREATE TABLE report_figures (
    report_id                    BIGINT PRIMARY KEY,
    applications_received        BIGINT,
    carried_over                 BIGINT,
    granted                      BIGINT,
    partly_granted               BIGINT,
    denied                       BIGINT,
    unable                       BIGINT,
    rejected                     BIGINT,
    other_handling               BIGINT,
    results_total                BIGINT,
    carried_forward              BIGINT,
    review_upheld                BIGINT,
    review_corrected             BIGINT,
    review_other                 BIGINT,
    reviews                      BIGINT,
    suit_direct_upheld           BIGINT,
    suit_direct_corrected        BIGINT,
    suit_direct_other            BIGINT,
    suits_direct                 BIGINT,
    suit_after_review_upheld     BIGINT,
    suit_after_review_corrected  BIGINT,
    suit_after_review_other      BIGINT,
    suits_after_review           BIGINT,
    failing_rules                VARCHAR[]
);
