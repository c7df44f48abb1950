-- The headline figures of each report version, from its table 三 and 四 cells and its rule
-- outcomes (v_summary's parts; see the view for what each means). A report's cells and checks
-- never change once loaded, so the loader computes these once, in the transaction that loads
-- the report ($lo..$hi: the report ids of the batch), and v_summary reads one row per report
-- instead of aggregating every cell of the warehouse. Migration 006 fills them for older reports.
WITH t3 AS (
    SELECT report_id, row_code,
           CASE WHEN bool_or(empty) FILTER (col_code = 'total') AND sum(value) FILTER (col_code <> 'total') > 0
                THEN NULL
                WHEN max(value) FILTER (col_code = 'total') = round(max(value) FILTER (col_code = 'total'))
                THEN CAST(max(value) FILTER (col_code = 'total') AS BIGINT) END AS v
    FROM cell
    WHERE table_code = 't3' AND report_id BETWEEN $lo AND $hi
    GROUP BY report_id, row_code
    HAVING count(*) FILTER (col_code = 'total') = 1
),
t3r AS (
    SELECT report_id,
        max(v) FILTER (row_code = 'new_received') AS applications_received,
        max(v) FILTER (row_code = 'carried_over') AS carried_over,
        max(v) FILTER (row_code = 'granted') AS granted,
        max(v) FILTER (row_code = 'partly_granted') AS partly_granted,
        CASE WHEN count(v) FILTER (row_code LIKE 'denied\_%' ESCAPE '\') = 8
             THEN CAST(sum(v) FILTER (row_code LIKE 'denied\_%' ESCAPE '\') AS BIGINT) END AS denied,
        CASE WHEN count(v) FILTER (row_code LIKE 'unable\_%' ESCAPE '\') = 3
             THEN CAST(sum(v) FILTER (row_code LIKE 'unable\_%' ESCAPE '\') AS BIGINT) END AS unable,
        CASE WHEN count(v) FILTER (row_code LIKE 'rejected\_%' ESCAPE '\') = 5
             THEN CAST(sum(v) FILTER (row_code LIKE 'rejected\_%' ESCAPE '\') AS BIGINT) END AS rejected,
        CASE WHEN count(v) FILTER (row_code = 'other') = 1 THEN max(v) FILTER (row_code = 'other')
             WHEN count(v) FILTER (row_code LIKE 'other\_%' ESCAPE '\') = 3
             THEN CAST(sum(v) FILTER (row_code LIKE 'other\_%' ESCAPE '\') AS BIGINT) END AS other_handling,
        max(v) FILTER (row_code = 'results_total') AS results_total,
        max(v) FILTER (row_code = 'carried_forward') AS carried_forward
    FROM t3
    GROUP BY report_id
),
t4r AS (
    SELECT report_id,
        max(value) FILTER (row_code = 'review' AND col_code = 'upheld') AS review_upheld,
        max(value) FILTER (row_code = 'review' AND col_code = 'corrected') AS review_corrected,
        max(value) FILTER (row_code = 'review' AND col_code = 'other') AS review_other,
        max(value) FILTER (row_code = 'review' AND col_code = 'total') AS reviews,
        max(value) FILTER (row_code = 'suit_direct' AND col_code = 'upheld') AS suit_direct_upheld,
        max(value) FILTER (row_code = 'suit_direct' AND col_code = 'corrected') AS suit_direct_corrected,
        max(value) FILTER (row_code = 'suit_direct' AND col_code = 'other') AS suit_direct_other,
        max(value) FILTER (row_code = 'suit_direct' AND col_code = 'total') AS suits_direct,
        max(value) FILTER (row_code = 'suit_after_review' AND col_code = 'upheld') AS suit_after_review_upheld,
        max(value) FILTER (row_code = 'suit_after_review' AND col_code = 'corrected') AS suit_after_review_corrected,
        max(value) FILTER (row_code = 'suit_after_review' AND col_code = 'other') AS suit_after_review_other,
        max(value) FILTER (row_code = 'suit_after_review' AND col_code = 'total') AS suits_after_review
    FROM (SELECT report_id, row_code, col_code,
                 CASE WHEN value = round(value) THEN CAST(value AS BIGINT) END AS value
          FROM cell WHERE table_code = 't4' AND report_id BETWEEN $lo AND $hi)
    GROUP BY report_id
),
checks AS (
    SELECT report_id, list(DISTINCT rule ORDER BY rule) FILTER (status = 'fail') AS failing_rules
    FROM check_result
    WHERE report_id BETWEEN $lo AND $hi
    GROUP BY report_id
)SELECT
    report_id,
    a.applications_received, a.carried_over, a.granted, a.partly_granted, a.denied, a.unable, a.rejected,
    a.other_handling, a.results_total, a.carried_forward,
    f.review_upheld, f.review_corrected, f.review_other, f.reviews,
    f.suit_direct_upheld, f.suit_direct_corrected, f.suit_direct_other, f.suits_direct,
    f.suit_after_review_upheld, f.suit_after_review_corrected, f.suit_after_review_other, f.suits_after_review,
    k.failing_rules
FROM t3r a
FULL JOIN t4r f USING (report_id)
FULL JOIN checks k USING (report_id)
