package store

// DigestDraftsQuery is digestDraftsQuery, for the query-plan test.
const DigestDraftsQuery = digestDraftsQuery
