-- Stall numbers and the names of pickup points and gates are a market's own: two markets may
-- both have a stall A01 or a 北门. A gate's code stays unique across the deployment (a scan
-- finds its gate by it).
ALTER TABLE vendors DROP CONSTRAINT vendors_stall_no_key;
ALTER TABLE vendors ADD CONSTRAINT vendors_market_stall_no UNIQUE (market_id, stall_no);
DROP INDEX vendors_market;
ALTER TABLE pickup_points DROP CONSTRAINT pickup_points_name_key;
ALTER TABLE pickup_points ADD CONSTRAINT pickup_points_market_name UNIQUE (market_id, name);
ALTER TABLE gates DROP CONSTRAINT gates_name_key;
ALTER TABLE gates ADD CONSTRAINT gates_market_name UNIQUE (market_id, name);
