-- Schema version 2: the crawl's fetch log and run summaries.

-- One row per HTTP request the crawler made (or refused to make: robots.txt, off-site).
CREATE TABLE fetch_log (
    run_id          VARCHAR NOT NULL,
    source_name     VARCHAR,
    kind            VARCHAR NOT NULL,           -- robots | list | report | attachment
    url             VARCHAR NOT NULL,
    final_url       VARCHAR,                    -- after redirects
    status_code     INTEGER,                    -- NULL when no response (error or refused)
    not_modified    BOOLEAN NOT NULL,           -- 304: the archived body was reused
    etag            VARCHAR,
    last_modified   VARCHAR,
    content_type    VARCHAR,
    bytes           BIGINT NOT NULL,            -- body bytes transferred
    sha256          VARCHAR,                    -- archive key of the body
    attempts        INTEGER NOT NULL,
    error           VARCHAR,
    fetched_at      TIMESTAMP NOT NULL,
    elapsed_ms      DOUBLE
);

CREATE TABLE crawl_run (
    run_id       VARCHAR PRIMARY KEY,
    flow         VARCHAR NOT NULL,              -- nightly | reparse
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    summary      JSON
);
