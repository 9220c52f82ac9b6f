-- One password change as Rotary's postgres-credentials does it, for pgbench -C (a fresh scram
-- login per transaction): a new 48-character password on one of 64 users.
\set n random(1, 64)
ALTER ROLE pgb_u:n WITH PASSWORD 'Vq7RzK2mTb9XwLp4Nh6JcY3dFs8GaE5uQi1oZr0tWk2MvB7x';
