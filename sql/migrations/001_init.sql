-- gongkai warehouse, schema version 1.
-- Column names avoid SQL reserved words (no "table", "row", "where"): table_code, row_code, col_code, scope.

CREATE TABLE agency (
    agency_id      INTEGER PRIMARY KEY,
    name           VARCHAR NOT NULL UNIQUE,   -- as the report's title prints it
    name_norm      VARCHAR NOT NULL,          -- NFKC, no whitespace
    province       VARCHAR,
    city           VARCHAR,
    county         VARCHAR,
    province_code  VARCHAR,                   -- 6-digit 行政区划代码
    city_code      VARCHAR,
    county_code    VARCHAR,
    level          VARCHAR NOT NULL           -- government | department | township_street
);

-- Other names of an agency (renamed agencies, spelling variants); loads resolve through it.
CREATE TABLE agency_alias (
    alias      VARCHAR PRIMARY KEY,
    agency_id  INTEGER NOT NULL,
    note       VARCHAR
);

-- One row per version of a report. A report is identified by report_key (agency and year
-- when the parse found them, else its source); a new version is made when the content or
-- the parse output changes; exactly one version per report_key is current.
CREATE TABLE report (
    report_id         BIGINT PRIMARY KEY,
    report_key        VARCHAR NOT NULL,
    version           INTEGER NOT NULL,
    is_current        BOOLEAN NOT NULL,
    agency_id         INTEGER,
    year              INTEGER,
    layout            VARCHAR,
    title             VARCHAR,
    source_url        VARCHAR NOT NULL,
    publication_date  DATE,
    content_sha256    VARCHAR NOT NULL,
    output_sha256     VARCHAR NOT NULL,
    parser_version    VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,        -- ok | partial | failed
    warnings          VARCHAR[],
    uncertain         VARCHAR[],               -- cells left out as ambiguous ("t3.granted.total")
    form              VARCHAR,
    encoding          VARCHAR,
    fetched_at        TIMESTAMP,
    loaded_at         TIMESTAMP NOT NULL
);

-- The tidy fact table: one row per printed cell of tables 二, 三, 四.
CREATE TABLE cell (
    report_id    BIGINT NOT NULL,
    agency_id    INTEGER,
    year         INTEGER,
    table_code   VARCHAR NOT NULL,
    row_code     VARCHAR NOT NULL,
    col_code     VARCHAR NOT NULL,
    value        DOUBLE NOT NULL,
    empty        BOOLEAN NOT NULL,             -- printed blank, "/", "—", "-" or "无" (value 0)
    raw          VARCHAR,                      -- the cell's text as printed
    table_index  INTEGER,                      -- provenance: HTML <table> index (NULL for text)
    grid_row     INTEGER,                      -- grid row, or text line
    grid_col     INTEGER,                      -- grid column, or token index
    glued_run    VARCHAR                       -- the digit run the value was split from, if any
);

CREATE TABLE check_result (
    report_id  BIGINT NOT NULL,
    rule       VARCHAR NOT NULL,
    scope      VARCHAR NOT NULL,               -- the column or row the rule was checked on
    status     VARCHAR NOT NULL,               -- pass | fail | skip
    expected   DOUBLE,
    actual     DOUBLE,
    detail     VARCHAR
);

CREATE TABLE codebook (
    table_code  VARCHAR NOT NULL,
    axis        VARCHAR NOT NULL,              -- row | col
    code        VARCHAR NOT NULL,
    layouts     VARCHAR NOT NULL,              -- "2019|2021"
    label_zh    VARCHAR NOT NULL,
    label_en    VARCHAR NOT NULL,
    unit        VARCHAR,
    note        VARCHAR
);
