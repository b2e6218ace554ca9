/** Audio output: WAV files written whole or streamed chunk by chunk. */
package io.foley4j.audio;
