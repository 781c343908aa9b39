-- 0001: the VIP allocation ledger, one row per load balancer holding a VIP.
-- Migrations are append-only and additive; never edit a released file.
--
-- The three unique constraints are the whole of the concurrency control: a
-- claim is one INSERT ... ON CONFLICT DO NOTHING, so two processes can never
-- hold the same address of a subnet, the same port, or two VIPs for one load
-- balancer, and no claim locks more than the index entries it inserts.
-- address is inet (a host address, /32 or /128): equal addresses compare
-- equal whatever their spelling.
CREATE TABLE vip_allocations (
    loadbalancer_id text        PRIMARY KEY,
    subnet_id       text        NOT NULL,
    address         inet        NOT NULL,
    port_id         text        NOT NULL,
    network_id      text        NOT NULL DEFAULT '',
    allocated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vip_allocations_address_key UNIQUE (subnet_id, address),
    CONSTRAINT vip_allocations_port_key UNIQUE (port_id)
);
