import { dictionary } from '@zxcvbn-ts/language-common';
import { compactWordList } from './word-list.ts';

/**
 * A maintained list of common and breached passwords (ASVS 2.1.7) as a compactWordList. The
 * build replaces this module with the string it computes (scripts/build-server.mjs), so the
 * server never loads @zxcvbn-ts/language-common: its 49 000 strings as a JS array cost ~7 MB
 * of peak RSS (issue 21).
 */
export const COMMON_PASSWORDS: string = compactWordList(dictionary['passwords-common'] as string[]);
