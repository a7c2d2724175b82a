"""The dashboard's own words in English, Russian and Ukrainian: key -> (en, ru, uk).

Report words — `col.<column>`, `val.<value>`, `report.<name>` — live in `callscope.i18n`, the
catalogue the CLI reads too, so a column has one name everywhere; they are merged in below and
win over a word of the same key here. This module adds what only pages say: navigation,
periods, units, page titles and hints. tests/test_web_i18n.py checks every key has all three.
"""

from __future__ import annotations

from callscope.i18n import MESSAGES as REPORT_WORDS

_T: dict[str, tuple[str, str, str]] = {
    "skip": ("Skip to content", "К содержимому", "До вмісту"),
    "nav.label": ("Sections", "Разделы", "Розділи"),
    "nav.overview": ("Overview", "Обзор", "Огляд"),
    "nav.managers": ("Managers", "Менеджеры", "Менеджери"),
    "nav.calls": ("Call log", "Журнал звонков", "Журнал дзвінків"),
    "nav.callbacks": ("Callbacks", "Перезвоны", "Передзвони"),
    "nav.load": ("Load", "Нагрузка", "Навантаження"),
    "nav.settings": ("Settings", "Настройки", "Налаштування"),
    "logout": ("Sign out", "Выйти", "Вийти"),
    "apply": ("Apply", "Применить", "Застосувати"),
    "reset": ("Reset", "Сбросить", "Скинути"),
    "all": ("All", "Все", "Усі"),
    "yes": ("yes", "да", "так"),
    "no": ("no", "нет", "ні"),
    "empty": (
        "Nothing in this period.",
        "За этот период ничего нет.",
        "За цей період нічого немає.",
    ),
    "team_average": ("Team average", "Среднее по команде", "Середнє по команді"),
    "export.xlsx": ("Excel", "Excel", "Excel"),
    "export.pdf": ("PDF", "PDF", "PDF"),
    "vs_previous": ("previous period: {v}", "прошлый период: {v}", "минулий період: {v}"),
    "no_change": ("no change", "без изменений", "без змін"),
    "period.label": ("Period", "Период", "Період"),
    "period.today": ("Today", "Сегодня", "Сьогодні"),
    "period.yesterday": ("Yesterday", "Вчера", "Вчора"),
    "period.week": ("Week", "Неделя", "Тиждень"),
    "period.month": ("Month", "Месяц", "Місяць"),
    "period.quarter": ("Quarter", "Квартал", "Квартал"),
    "period.half_year": ("Half-year", "Полугодие", "Півріччя"),
    "period.year": ("Year", "Год", "Рік"),
    "period.custom": ("Custom", "Свой период", "Свій період"),
    "period.from": ("From", "С", "З"),
    "period.to": ("To", "По", "По"),
    "unit.s": ("{n} s", "{n} с", "{n} с"),
    "unit.min_s": ("{m} min {s} s", "{m} мин {s} с", "{m} хв {s} с"),
    "unit.h_min": ("{h} h {m} min", "{h} ч {m} мин", "{h} год {m} хв"),
    "login.title": ("Sign in", "Вход", "Вхід"),
    "login.lead": (
        "Call analytics of your phone system.",
        "Аналитика звонков вашей АТС.",
        "Аналітика дзвінків вашої АТС.",
    ),
    "login.username": ("User name", "Имя пользователя", "Ім'я користувача"),
    "login.password": ("Password", "Пароль", "Пароль"),
    "login.submit": ("Sign in", "Войти", "Увійти"),
    "login.failed": (
        "Wrong user name or password.",
        "Неверное имя пользователя или пароль.",
        "Невірне ім'я користувача або пароль.",
    ),
    "error.title": ("Something went wrong", "Что-то пошло не так", "Щось пішло не так"),
    "error.id": ("Error id", "Код ошибки", "Код помилки"),
    "error.home": ("To the overview", "На обзор", "На огляд"),
    "overview.trend": ("Calls by day", "Звонки по дням", "Дзвінки по днях"),
    "overview.trend_hour": ("Calls by hour", "Звонки по часам", "Дзвінки по годинах"),
    "overview.stages": (
        "Where missed calls ended",
        "Где закончились пропущенные",
        "Де закінчились пропущені",
    ),
    "overview.worst": ("Top 5 missers", "Топ-5 по пропускам", "Топ-5 за пропусками"),
    "overview.worst_hint": (
        "Managers with at least {n} calls offered, highest miss rate first.",
        "Менеджеры с не менее чем {n} звонками; сначала с наибольшей долей пропусков.",
        "Менеджери з щонайменше {n} дзвінками; спершу з найбільшою часткою пропусків.",
    ),
    "overview.open_now": (
        "Open missed contacts",
        "Непрозвоненные пропущенные",
        "Неопрацьовані пропущені",
    ),
    "overview.to_control": (
        "Open the missed control",
        "Открыть контроль пропущенных",
        "Відкрити контроль пропущених",
    ),
    "kpi.offered": ("Incoming calls", "Входящие звонки", "Вхідні дзвінки"),
    "kpi.answered": ("Answered", "Отвечено", "Відповіли"),
    "kpi.missed": ("Missed", "Пропущено", "Пропущено"),
    "kpi.asr": ("Answer rate", "Доля отвеченных", "Частка відповідей"),
    "kpi.asa_s": (
        "Average wait to answer",
        "Среднее ожидание ответа",
        "Середнє очікування відповіді",
    ),
    "kpi.service_level": ("Service level", "Уровень сервиса", "Рівень сервісу"),
    "kpi.open_contacts": ("Not called back", "Не перезвонили", "Не передзвонили"),
    "kpi.outbound": ("Outgoing calls", "Исходящие звонки", "Вихідні дзвінки"),
    "kpi.called_back_within_sla": (
        "Called back within SLA",
        "Перезвонили в срок",
        "Передзвонили вчасно",
    ),
    "kpi.of_contacts": ("of {n} missed contacts", "из {n} пропущенных", "з {n} пропущених"),
    "managers.table": ("Scorecard", "Показатели менеджеров", "Показники менеджерів"),
    "managers.miss_chart": (
        "Miss rate by manager",
        "Доля пропусков по менеджерам",
        "Частка пропусків за менеджерами",
    ),
    "managers.flag_hint": (
        "Red flags mark a figure far worse than the team average (see docs/web.md).",
        "Красные флажки — показатель намного хуже среднего по команде (см. docs/web.md).",
        "Червоні прапорці — показник значно гірший за середній по команді (див. docs/web.md).",
    ),
    "manager.title": ("Manager: {name}", "Менеджер: {name}", "Менеджер: {name}"),
    "manager.daily": ("Daily trend", "По дням", "По днях"),
    "manager.pickup": ("Time to pick up", "Время до ответа", "Час до відповіді"),
    "manager.quick": ("Quick hang-ups", "Быстрые сбросы", "Швидкі скидання"),
    "manager.paused": ("Paused time", "Время на паузе", "Час на паузі"),
    "manager.contacts": (
        "Missed contacts attributed",
        "Пропущенные контакты менеджера",
        "Пропущені контакти менеджера",
    ),
    "manager.vs_team": ("Team average: {v}", "Среднее по команде: {v}", "Середнє по команді: {v}"),
    "flag.miss_rate": ("misses", "пропуски", "пропуски"),
    "flag.pickup": ("slow pickup", "медленно берёт", "повільно бере"),
    "flag.never_called_back": ("no callbacks", "не перезванивает", "не передзвонює"),
    "flag.quick_hangups": ("hang-ups", "сбросы", "скидання"),
    "calls.filters": ("Filters", "Фильтры", "Фільтри"),
    "calls.found": ("{n} calls", "Звонков: {n}", "Дзвінків: {n}"),
    "calls.missed_control": ("Missed control", "Контроль пропущенных", "Контроль пропущених"),
    "calls.legend": ("Colours", "Цвета", "Кольори"),
    "calls.sort": ("Sort by", "Сортировать по", "Сортувати за"),
    "calls.order": ("Order", "Порядок", "Порядок"),
    "calls.newest": ("Newest first", "Сначала новые", "Спершу нові"),
    "calls.oldest": ("Oldest first", "Сначала старые", "Спершу старі"),
    "calls.pages": ("Pages", "Страницы", "Сторінки"),
    "calls.next": ("Next page", "Следующая страница", "Наступна сторінка"),
    "calls.first": ("First page", "Первая страница", "Перша сторінка"),
    "legend.red": ("not called back", "не перезвонили", "не передзвонили"),
    "legend.yellow": ("callback tried or late", "пытались или поздно", "намагалися або пізно"),
    "legend.green": ("resolved in time", "решено вовремя", "вирішено вчасно"),
    "customer.title": ("Customer {number}", "Клиент {number}", "Клієнт {number}"),
    "customer.calls": ("Calls", "Звонки", "Дзвінки"),
    "customer.contacts": (
        "Missed contacts and resolutions",
        "Пропущенные контакты и их решение",
        "Пропущені контакти та їх вирішення",
    ),
    "customer.all_time": (
        "All calls on record",
        "Все звонки за всё время",
        "Усі дзвінки за весь час",
    ),
    "customer.legs": ("Who it rang", "Кому звонило", "Кому дзвонило"),
    "customer.n_calls": ("Calls", "Звонков", "Дзвінків"),
    "customer.n_contacts": ("Missed contacts", "Пропущенных контактов", "Пропущених контактів"),
    "callbacks.shares": (
        "How missed contacts ended",
        "Чем закончились пропущенные",
        "Чим закінчились пропущені",
    ),
    "callbacks.histogram": ("Time to resolution", "Время до решения", "Час до вирішення"),
    "callbacks.sla": (
        "Callbacks within SLA by manager",
        "Перезвоны в срок по менеджерам",
        "Передзвони вчасно за менеджерами",
    ),
    "callbacks.open": ("Still open", "Ещё открыты", "Ще відкриті"),
    "callbacks.sla_hint": (
        "SLA: {n} working minutes",
        "Срок: {n} рабочих минут",
        "Термін: {n} робочих хвилин",
    ),
    "load.heatmap": (
        "Incoming calls: weekday × hour",
        "Входящие: день недели × час",
        "Вхідні: день тижня × година",
    ),
    "load.heatmap_hint": (
        "Darker = more calls; the number is the calls offered.",
        "Темнее — больше звонков; число — поступившие звонки.",
        "Темніше — більше дзвінків; число — дзвінки, що надійшли.",
    ),
    "load.weekdays": ("Weekdays vs weekend", "Будни и выходные", "Будні та вихідні"),
    "load.peaks": ("Peak hours", "Часы пик", "Години пік"),
    "load.spread": (
        "Spread of calls across managers",
        "Распределение звонков по менеджерам",
        "Розподіл дзвінків між менеджерами",
    ),
    "load.gini": (
        "Gini coefficient: {v} (0 = even)",
        "Коэффициент Джини: {v} (0 — поровну)",
        "Коефіцієнт Джині: {v} (0 — порівну)",
    ),
    "load.patience": (
        "Patience: how long callers wait before hanging up",
        "Терпение: сколько ждут до сброса",
        "Терпіння: скільки чекають до скидання",
    ),
    "load.endpoints": (
        "Where callers hang up",
        "Где абоненты кладут трубку",
        "Де абоненти кладуть слухавку",
    ),
    "load.hour": ("Hour", "Час", "Година"),
    "settings.lead": (
        "Read-only: change callscope.toml and restart to edit.",
        "Только чтение: меняйте callscope.toml и перезапустите.",
        "Лише перегляд: змініть callscope.toml і перезапустіть.",
    ),
    "settings.general": ("General and thresholds", "Общие и пороги", "Загальні та пороги"),
    "settings.metrics": ("Metric thresholds", "Пороги метрик", "Пороги метрик"),
    "settings.schedule": ("Working hours", "Рабочее время", "Робочий час"),
    "settings.agents": ("Agents and teams", "Сотрудники и команды", "Співробітники та команди"),
    "load.peaks_hint": ("Peak hours: {hours}", "Часы пик: {hours}", "Години пік: {hours}"),
    "col.indicator": ("Indicator", "Показатель", "Показник"),
    "col.value": ("Value", "Значение", "Значення"),
    "col.previous": ("Previous period", "Прошлый период", "Минулий період"),
}

MESSAGES: dict[str, dict[str, str]] = {
    key: {"en": en, "ru": ru, "uk": uk} for key, (en, ru, uk) in _T.items()
}
MESSAGES.update(
    {
        key: words
        for key, words in REPORT_WORDS.items()
        if all(words.get(lang) for lang in ("en", "ru", "uk"))
    }
)
