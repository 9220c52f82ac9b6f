-- One password change as Rotary's postgres-credentials does it, for pgbench -C (a fresh scram
-- login per transaction): a new 48-character password on one of the client's own four users
-- (concurrent ALTER ROLEs of one role fail with "tuple concurrently updated").
\set n :client_id * 4 + random(1, 4)
ALTER ROLE pgb_u:n WITH PASSWORD 'Vq7RzK2mTb9XwLp4Nh6JcY3dFs8GaE5uQi1oZr0tWk2MvB7x';
