/**
 * The favicon (an SVG diamond in the console's accent colour), served at `/favicon.ico` and
 * `/favicon.svg` from memory.
 *
 * @module
 */

/** The favicon's SVG source. */
export const FAVICON_SVG: string = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#3b5bdb"/>' +
  '<path d="M16 5 27 16 16 27 5 16Z" fill="#fff"/>' +
  '<path d="M16 11 21 16 16 21 11 16Z" fill="#3b5bdb"/></svg>';
