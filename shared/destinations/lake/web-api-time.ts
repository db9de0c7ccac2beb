/**
 * Web API times (`yyyy-MM-ddTHH:mm:ssZ`) and dates (`yyyy-MM-dd`, read as UTC midnight) with every part in range for
 * any month (day 01–28, hour 00–23): `new Date` reads them exactly as written, so their text can be used without the
 * Date round trip. Other days and hours still go through `Date`, which rolls `02-30` over to March and `24:00:00` to
 * the next day.
 */
const PLAIN_DATE = String.raw`\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])`;
const PLAIN_WEB_API_TIME = new RegExp(String.raw`^${PLAIN_DATE}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$`);
const PLAIN_WEB_API_DATE = new RegExp(`^${PLAIN_DATE}$`);

export const isPlainWebApiTime = (value: string): boolean => PLAIN_WEB_API_TIME.test(value);
export const isPlainWebApiDate = (value: string): boolean => PLAIN_WEB_API_DATE.test(value);
