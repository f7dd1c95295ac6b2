// How many writer partitions a deployment has: a leaf, so that configuration can check the setting
// without loading the interface (and its MariaDB and Redis drivers).

/** Partitions writers claim unless told otherwise. */
export const DEFAULT_PARTITIONS = 8;

/** Partition numbers are a TINYINT UNSIGNED in MariaDB. */
export const MAX_PARTITIONS = 256;
