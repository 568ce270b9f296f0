// HTTP-mode reference, setup command: creates the seats table and loads the scenario's seats. Run once per
// scenario with the contract's environment (DATABASE_URL, GAUNTLET_SCENARIO = a JSON file path).
import fs from 'node:fs';
import pg from 'pg';

const { seats = [] } = JSON.parse(fs.readFileSync(process.env.GAUNTLET_SCENARIO, 'utf8'));
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
await client.query(`CREATE TABLE IF NOT EXISTS seats (
  seat_id text PRIMARY KEY, user_id text, status text CHECK (status IN ('held', 'reserved')),
  claimed_at timestamptz, expires_at timestamptz)`);
await client.query('INSERT INTO seats (seat_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [seats]);
await client.end();
