//! Chinese first, English on request. Every label the storefront shows is here.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

macro_rules! dictionary {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub enum K { $($key),* }

        pub fn text(lang: Lang, key: K) -> &'static str {
            match (key, lang) {
                $((K::$key, Lang::Zh) => $zh, (K::$key, Lang::En) => $en,)*
            }
        }
    };
}

dictionary! {
    app_name => "傅鲜生", "Fu Xian Sheng";
    tagline => "振大社区网上菜场 · 送菜到家", "Zhenda community market · delivered home";
    nav_home => "首页", "Home";
    nav_group => "团购", "Group buy";
    nav_cart => "购物车", "Cart";
    nav_orders => "订单", "Orders";
    nav_me => "我的", "Me";
    search_placeholder => "搜索蔬菜、水果、肉蛋…", "Search vegetables, fruit, meat…";
    search => "搜索", "Search";
    categories => "分类", "Categories";
    boxes => "振大社区菜盒子", "Zhenda veg boxes";
    stalls => "市场摊位", "Market stalls";
    all_products => "全部商品", "All products";
    loading => "正在加载…", "Loading…";
    retry => "重试", "Try again";
    load_failed => "加载失败", "Could not load";
    network_failed => "网络不通，请检查网络后重试", "No connection. Check the network and try again.";
    no_products => "没有找到商品", "No products found";
    stock => "库存", "In stock";
    sold_out => "已售完", "Sold out";
    limit => "每单限购", "Limit per order";
    stall => "摊位", "Stall";
    box_contents => "盒内有", "In the box";
    price_record => "价格记录", "Price record";
    back => "返回", "Back";
    login_title => "手机号登录", "Log in with your phone";
    phone => "手机号", "Phone number";
    phone_placeholder => "请输入11位手机号", "11-digit mobile number";
    code => "验证码", "Code";
    code_placeholder => "6位验证码", "6-digit code";
    send_code => "获取验证码", "Send code";
    resend_in => "秒后重发", "s to resend";
    demo_code => "演示模式验证码", "Demo code";
    login => "登录", "Log in";
    logging_in => "正在登录…", "Logging in…";
    wechat_login => "微信一键登录", "Log in with WeChat";
    or => "或", "or";
    logout => "退出登录", "Log out";
    not_logged_in => "您还没有登录", "You are not logged in";
    go_login => "去登录", "Log in";
    my_account => "我的账户", "My account";
    roles => "身份", "Roles";
    role_resident => "居民", "Resident";
    role_volunteer => "志愿者", "Volunteer";
    role_vendor => "摊主", "Vendor";
    role_staff => "工作人员", "Staff";
    household => "住址", "Home address";
    no_household => "还没有登记住址，下单时可填写", "No address on record yet; add one when you order";
    quarantined => "居家隔离", "Home quarantine";
    hardship => "困难家庭", "Hardship";
    elderly => "老人户", "Elderly";
    language => "语言 / Language", "Language / 语言";
    cart_soon => "购物车将在这里显示。先去挑选商品吧。", "Your cart will show here. Start by choosing products.";
    orders_soon => "您的订单会显示在这里，可随时查看配送状态。", "Your orders will show here with their delivery status.";
    group_intro => "隔离楼栋的团购由社区组织，志愿者配送到楼。", "Group buys for quarantined buildings are run by the community and delivered by volunteers.";
    browse => "去逛逛", "Browse";
    not_found => "页面不存在", "Page not found";
    building => "号楼", "Bldg";
    unit => "单元", "Unit";
    room => "室", "Room";
}

/// The label for `key` in the current language; re-renders when the language changes.
pub fn t(key: K) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = crate::session::use_session().lang;
    move || text(lang.get(), key)
}

/// For plain code (not a view): the label now.
pub fn now(key: K) -> &'static str {
    text(crate::session::use_session().lang.get_untracked(), key)
}
