-- Deals whose deal_stats row (kept by triggers, schema/0007) differs from the aggregate over
-- their linked threads. Must print 0. Runs on SQLite (3.39+) and PostgreSQL alike.
SELECT count(*) FROM (
  SELECT coalesce(s.threads, 0) AS st, coalesce(s.messages, 0) AS sm, coalesce(s.unread, 0) AS su,
         s.last_date AS sl,
         (SELECT count(*) FROM thread_deals td WHERE td.deal_id = d.id) AS at,
         (SELECT coalesce(sum(t.message_count), 0) FROM thread_deals td JOIN threads t
            ON t.id = td.thread_id WHERE td.deal_id = d.id) AS am,
         (SELECT coalesce(sum(t.unread_count), 0) FROM thread_deals td JOIN threads t
            ON t.id = td.thread_id WHERE td.deal_id = d.id) AS au,
         (SELECT max(t.last_date) FROM thread_deals td JOIN threads t
            ON t.id = td.thread_id WHERE td.deal_id = d.id) AS al
  FROM deals d LEFT JOIN deal_stats s ON s.deal_id = d.id) AS c
WHERE st != at OR sm != am OR su != au OR sl IS DISTINCT FROM al;
