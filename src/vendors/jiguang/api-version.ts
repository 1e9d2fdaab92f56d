/** The Jiguang Operation Growth REST API this adapter is written against, and where it is documented. */
export const API_VERSION = "v1";
export const ATTRIBUTE_PATH = `smartop/api/${API_VERSION}/user/attribute`;
export const REGISTER_PATH = `smartop/api/${API_VERSION}/user/register`;
export const DOCS_URL = "https://docs.jiguang.cn/en/public_service/rest_api/metadata/report_user_attributes";
export const REGISTER_DOCS_URL = "https://docs.jiguang.cn/en/public_service/rest_api/get_cuid";
