/**
 * An array parameter as `unnest` reads it in a prepared statement: through a scalar subquery, so
 * that the planner never sees the array's length. Given a constant array, `unnest` estimates its
 * length exactly, which makes every per-execution ("custom") plan cheaper on paper than the
 * generic plan (which assumes 10 rows per array); Postgres then plans the statement afresh at each
 * execution, which for the queue's batch statement cost the server more CPU than running it
 * (~0.45 ms). Hidden, both estimate 10 rows and the generic plan is kept after the fifth execution
 * (docs/performance.md, "Queue").
 */
export const arrayRows = (parameter: number, type: string): string => `(select $${parameter}::${type}[])`
