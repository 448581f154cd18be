/** The API's version: in the OpenAPI document and on the staff's system page. */
export const API_VERSION = '0.1.0';
