-- PostgreSQL 0004: the epoch fence takes FOR KEY SHARE instead of FOR SHARE (issue 17).
-- FOR SHARE conflicts with the lease's renewal (UPDATE ... SET expires_at takes FOR NO KEY
-- UPDATE), so a worker's renewal waited for its own batch transactions to commit: seconds under
-- load, long enough to lose the lease. FOR KEY SHARE does not conflict with that UPDATE, and
-- still conflicts with a claim's SELECT ... FOR UPDATE SKIP LOCKED: another worker cannot take
-- the lease while a transaction that checked it is open (it skips the row, and tries again at its
-- next claim), so the writes of that transaction stand under the lease they were checked against.
CREATE OR REPLACE FUNCTION account_lease_held(account BIGINT, worker BIGINT, lease_epoch BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM account_leases l
        WHERE l.account_id = account AND l.worker_id = worker AND l.epoch = lease_epoch
          AND l.expires_at > now()
        FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'worker % does not hold the lease of account % in epoch %',
                        worker, account, lease_epoch
              USING ERRCODE = 'CR001';
    END IF;
END
$$;
