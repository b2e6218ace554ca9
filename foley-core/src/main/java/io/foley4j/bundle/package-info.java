/**
 * Model bundles (format versions 1 and 2, see docs/bundle-format.md): opening directories and archives safely,
 * verifying every file's SHA-256, and the parsed manifest with the rates and shapes it implies.
 */
package io.foley4j.bundle;
