"""Network: the partnership graph and the proposed consortia, laid out with networkx.

Nodes are the organisations that appear in a partnership or in a consortium of the latest
result, coloured by their (first) role, larger the more consortia they are in. Grey edges
are prior partnerships (thicker = stronger), blue edges join members of one consortium.
Suppliers many consortia depend on (concentration risk) get a red ring and are listed at
the side. Wheel or +/− zoom, drag pans, a click selects an organisation (and tells the
other views through ``session.org_selected``). Large catalogues are drawn in part, and the
view says so.
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from typing import Any

import networkx as nx
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPen, QShowEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.model import Catalogue, Role
from gui.i18n import ROLE_LABELS, pick, tr
from gui.session import Session
from gui.views.base import View

ROLE_COLOURS = {
    Role.USER_UNIT: "#8e6bbf", Role.MAKER: "#3d7cc9", Role.SERVICE_PROVIDER: "#2aa3a3",
    Role.ALGORITHM: "#d08a2e", Role.COMPONENT: "#6b8e23", Role.INSTITUTE: "#c25b8a",
}
NODE_LIMIT = 400  # above this many organisations, draw only a part (and stay below 500: no scipy)
RISK_SHARE = 0.30  # in more than this share of one plan's consortia …
RISK_MIN_CONSORTIA = 3  # … of a plan with at least this many
RISK_TOP = 3  # and the top few by count (in at least two consortia)
ORG_ROLE = Qt.ItemDataRole.UserRole


def consortium_counts(result: dict[str, Any] | None) -> Counter[str]:
    """How many consortia each organisation is in (any role)."""
    counts: Counter[str] = Counter()
    for c in (result or {}).get("consortia", []):
        counts.update({m["org"] for m in c["members"]})
    return counts


def concentration_risks(catalogue: Catalogue, result: dict[str, Any] | None,
                        share: float = RISK_SHARE, top: int = RISK_TOP) -> dict[str, str]:
    """Suppliers (non-owner members) many consortia depend on, with why: in more than
    ``share`` of one plan's consortia, or among the ``top`` by count (in ≥ 2 consortia)."""
    consortia = (result or {}).get("consortia", [])
    coordinator = {s.id: s.coordinator for s in catalogue.scenes}
    per_plan: dict[str, Counter[str]] = defaultdict(Counter)
    plan_size: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for c in consortia:
        plan = coordinator.get(c["scene"], "")
        plan_size[plan] += 1
        members = {m["org"] for m in c["members"] if m["role"] != Role.USER_UNIT.value}
        per_plan[plan].update(members)
        total.update(members)
    risks: dict[str, str] = {}
    for plan, counts in per_plan.items():
        n = plan_size[plan]
        if n < RISK_MIN_CONSORTIA:
            continue
        for org, k in counts.items():
            if k / n > share and org not in risks:
                risks[org] = tr(f"{plan}：{k}/{n} 个联合体（{k / n:.0%}）",
                                f"{plan}: {k}/{n} consortia ({k / n:.0%})")
    for org, k in total.most_common(top):
        if k >= 2 and org not in risks:
            risks[org] = tr(f"共 {k} 个联合体（前 {top} 名）", f"{k} consortia (top {top})")
    return risks


class NodeItem(QGraphicsEllipseItem):
    """One organisation on the canvas."""

    def __init__(self, org_id: str, x: float, y: float, radius: float, colour: str,
                 risk: bool) -> None:
        super().__init__(-radius, -radius, 2 * radius, 2 * radius)
        self.org_id = org_id
        self.setPos(x, y)
        self.setBrush(QBrush(QColor(colour)))
        self.risk = risk
        self.set_selected_look(False)
        self.setZValue(2)
        self.setAcceptHoverEvents(False)

    def set_selected_look(self, selected: bool) -> None:
        if selected:
            pen = QPen(QColor("#111111"), 3)
        elif self.risk:
            pen = QPen(QColor("#e02020"), 3)
        else:
            pen = QPen(QColor("#ffffff"), 1)
        self.setPen(pen)


class GraphView(QGraphicsView):
    """The canvas: wheel zoom, drag to pan, click a node."""

    node_clicked = Signal(str)

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)

    def zoom(self, factor: float) -> None:
        current = self.transform().m11()
        factor = max(0.05 / current, min(factor, 20.0 / current))
        self.scale(factor, factor)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(1.15 ** steps)
        event.accept()

    def node_at(self, pos: QPointF) -> str | None:
        """The organisation drawn at a viewport position, if any."""
        for item in self.items(pos.toPoint()):
            if isinstance(item, NodeItem):
                return item.org_id
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        org = self.node_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        super().mousePressEvent(event)
        if org is not None:
            self.node_clicked.emit(org)


class NetworkView(View):
    """Partnerships and proposed consortia as a graph."""

    key = "network"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.nodes: dict[str, NodeItem] = {}
        self.positions: dict[str, tuple[float, float]] = {}
        self.risks: dict[str, str] = {}
        self.selected: str | None = None
        self.partial = ""  # why only part of the graph is drawn ("" when it all is)
        self._dirty = True

        self.scene_ = QGraphicsScene(self)
        self.canvas = GraphView(self.scene_)
        self.canvas.node_clicked.connect(self.select)
        self.zoom_in = QPushButton("+")
        self.zoom_out = QPushButton("−")
        self.fit_button = QPushButton()
        self.zoom_in.clicked.connect(lambda: self.canvas.zoom(1.25))
        self.zoom_out.clicked.connect(lambda: self.canvas.zoom(0.8))
        self.fit_button.clicked.connect(self.fit)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.zoom_in, self.zoom_out, self.fit_button):
            b.setMaximumWidth(80)
            buttons.addWidget(b)
        buttons.addWidget(self.notice, 1)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(buttons)
        lv.addWidget(self.canvas, 1)

        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.risk_title = QLabel()
        self.risk_list = QListWidget()
        self.risk_list.itemClicked.connect(
            lambda item: self.select(str(item.data(ORG_ROLE))))
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(self.legend)
        sv.addWidget(self.info, 1)
        sv.addWidget(self.risk_title)
        sv.addWidget(self.risk_list, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)

        session.changed.connect(self._stale)
        session.result_changed.connect(self._stale)
        session.org_selected.connect(self._follow)
        self.retranslate()

    # -- texts -------------------------------------------------------------------

    def title(self) -> str:
        return tr("合作网络", "Network")

    def retranslate(self) -> None:
        self.zoom_in.setToolTip(tr("放大", "Zoom in"))
        self.zoom_out.setToolTip(tr("缩小", "Zoom out"))
        self.fit_button.setText(tr("适应窗口", "Fit"))
        self.risk_title.setText(tr("集中度风险（被过多联合体依赖）",
                                   "Concentration risk (many consortia depend on them)"))
        rows = [f'<span style="color:{ROLE_COLOURS[r]}">●</span> {pick(r, ROLE_LABELS)}'
                for r in Role]
        self.legend.setText("&nbsp;&nbsp;".join(rows) + "<br>" + tr(
            "灰线：既往合作（越粗越强）；蓝线：同一联合体；红圈：集中度风险",
            "Grey: prior partnership (thicker = stronger); blue: same consortium; "
            "red ring: concentration risk"))
        if not self._dirty:
            self._fill_side()
        self._update_notice()

    def _update_notice(self) -> None:
        parts = []
        if self.session.result is None:
            parts.append(tr("尚未匹配：只显示既往合作", "Not matched yet: partnerships only"))
        if self.partial:
            parts.append(self.partial)
        self.notice.setText("  ".join(parts))

    # -- building ----------------------------------------------------------------

    def _stale(self) -> None:
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def graph(self) -> nx.Graph:
        """Every organisation in a partnership or a consortium, with both kinds of edge."""
        catalogue = self.session.catalogue
        known = catalogue.org_by_id()
        g = nx.Graph()
        for p in catalogue.partnerships:
            if p.a in known and p.b in known and p.a != p.b:
                g.add_edge(p.a, p.b, weight=max(0.1, p.strength), strength=p.strength)
        for c in (self.session.result or {}).get("consortia", []):
            ids = sorted({m["org"] for m in c["members"]} & known.keys())
            g.add_nodes_from(ids)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    data = g.get_edge_data(a, b)
                    if data is None:
                        g.add_edge(a, b, weight=1.0, together=1)
                    else:
                        data["together"] = data.get("together", 0) + 1
                        data["weight"] = data["weight"] + 1.0
        return g

    def _limit(self, g: nx.Graph) -> nx.Graph:
        """The part of ``g`` to draw (all of it unless it is large); sets ``partial``."""
        self.partial = ""
        n = g.number_of_nodes()
        if n <= NODE_LIMIT:
            return g
        in_consortia = set(consortium_counts(self.session.result))
        if self.selected in g:
            keep = {self.selected, *g.neighbors(self.selected)}
            if len(keep) > NODE_LIMIT:
                near = sorted(g.neighbors(self.selected),
                              key=lambda o: -g[self.selected][o].get("weight", 1.0))
                keep = {self.selected, *near[:NODE_LIMIT - 1]}
            self.partial = tr(f"共 {n} 个组织，只显示所选组织及其 {len(keep) - 1} 个相邻组织",
                              f"{n} organisations: showing the selected one and its "
                              f"{len(keep) - 1} neighbours only")
        elif in_consortia and len(in_consortia) <= NODE_LIMIT:
            keep = in_consortia & set(g)
            self.partial = tr(f"共 {n} 个组织，只显示联合体中的 {len(keep)} 个；选择一个组织可查看其周边",
                              f"{n} organisations: showing the {len(keep)} in consortia only; "
                              f"select one to see its neighbourhood")
        else:
            degree = sorted(g.degree(weight="weight"), key=lambda d: -d[1])
            keep = {o for o, _ in degree[:NODE_LIMIT]}
            self.partial = tr(f"共 {n} 个组织，只显示联系最多的 {len(keep)} 个；选择一个组织可查看其周边",
                              f"{n} organisations: showing the {len(keep)} best connected only; "
                              f"select one to see its neighbourhood")
        return g.subgraph(keep).copy()

    def refresh(self) -> None:
        """Re-read the catalogue and result, lay out and redraw."""
        self._dirty = False
        catalogue = self.session.catalogue
        result = self.session.result
        orgs = catalogue.org_by_id()
        if self.selected not in orgs:
            self.selected = None
        g = self._limit(self.graph())
        self.risks = concentration_risks(catalogue, result)
        counts = consortium_counts(result)
        if g.number_of_nodes() == 0:
            layout: dict[str, Any] = {}
        else:
            # Fruchterman-Reingold in numpy: below 500 nodes networkx needs no scipy (which
            # SceneMatch does not ship); NODE_LIMIT keeps every drawing below that.
            k = 4.0 / math.sqrt(g.number_of_nodes())  # room between the nodes
            layout = nx.spring_layout(g, k=k, seed=7, weight="weight", iterations=60,
                                      method="force")
        spread = 60.0 * math.sqrt(max(1, g.number_of_nodes()))
        self.positions = {o: (float(p[0]) * spread, float(p[1]) * spread) for o, p in layout.items()}

        self.scene_.clear()
        self.nodes = {}
        partner_pen = QColor(150, 150, 150, 140)
        together_pen = QColor(61, 124, 201, 150)
        for a, b, data in g.edges(data=True):
            (xa, ya), (xb, yb) = self.positions[a], self.positions[b]
            if data.get("together"):
                pen = QPen(together_pen, 1.0 + 0.8 * min(4, data["together"]))
            else:
                pen = QPen(partner_pen, 0.5 + 2.5 * min(1.0, data.get("strength", 0.5)))
            line = self.scene_.addLine(xa, ya, xb, yb, pen)
            line.setZValue(0)
        for org_id, (x, y) in self.positions.items():
            org = orgs[org_id]
            role = org.roles[0] if org.roles else Role.USER_UNIT
            radius = 6.0 + 3.0 * min(counts.get(org_id, 0), 8)
            node = NodeItem(org_id, x, y, radius, ROLE_COLOURS[role], org_id in self.risks)
            node.setToolTip(f"{org.name}（{org_id}）")
            self.scene_.addItem(node)
            self.nodes[org_id] = node
        if self.selected in self.nodes:
            self.nodes[self.selected].set_selected_look(True)
        self.scene_.setSceneRect(self.scene_.itemsBoundingRect().adjusted(-40, -40, 40, 40))
        self.fit()
        self._fill_side()
        self._update_notice()

    def fit(self) -> None:
        """Show the whole drawing."""
        if self.nodes:
            self.canvas.fitInView(self.scene_.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _fill_side(self) -> None:
        orgs = self.session.catalogue.org_by_id()
        self.risk_list.clear()
        for org_id, why in sorted(self.risks.items()):
            name = orgs[org_id].name if org_id in orgs else org_id
            item = QListWidgetItem(f"{name}（{org_id}）— {why}")
            item.setData(ORG_ROLE, org_id)
            item.setForeground(QColor("#c02020"))
            self.risk_list.addItem(item)
        self._show_info()

    # -- selection ---------------------------------------------------------------

    def node_position(self, org_id: str) -> QPointF:
        """Where ``org_id``'s node is, in the canvas's viewport coordinates."""
        return QPointF(self.canvas.mapFromScene(self.nodes[org_id].scenePos()))

    def select(self, org_id: str) -> None:
        """Select an organisation here and tell the other views."""
        self._follow(org_id)
        self.session.org_selected.emit(org_id)

    def _follow(self, org_id: str) -> None:
        if org_id == self.selected:
            return
        if self.selected in self.nodes:
            self.nodes[self.selected].set_selected_look(False)
        self.selected = org_id
        if self.partial and org_id not in self.nodes:
            self._stale()  # large catalogue: redraw around the selected organisation
        elif org_id in self.nodes:
            self.nodes[org_id].set_selected_look(True)
        self._show_info()

    def _show_info(self) -> None:
        org = self.session.organization(self.selected) if self.selected else None
        if org is None:
            self.info.setText(tr("点击一个节点查看组织。", "Click a node to see the organisation."))
            return
        roles = "、".join(pick(r, ROLE_LABELS) for r in org.roles)
        scenes = [c["scene"] for c in (self.session.result or {}).get("consortia", [])
                  if any(m["org"] == org.id for m in c["members"])]
        lines = [f"<b>{html.escape(org.name)}</b>（{html.escape(org.id)}）",
                 tr(f"角色：{roles}", f"Roles: {roles}"),
                 html.escape(tr(f"省份：{org.province}", f"Province: {org.province}")),
                 tr(f"所在联合体：{len(scenes)} 个", f"In {len(scenes)} consortia")
                 + (f"（{'、'.join(scenes)}）" if scenes else "")]
        if org.id in self.risks:
            lines.append('<span style="color:#c02020">' + tr("集中度风险：", "Concentration risk: ")
                         + html.escape(self.risks[org.id]) + "</span>")
        if org.id not in self.nodes:
            lines.append(tr("（未在图中：没有合作关系或联合体）",
                            "(not drawn: no partnership or consortium)"))
        self.info.setText("<br>".join(lines))
