/*
 * The partition button (planners and administrators): for the chosen community, a proposal
 * kept as a draft plan (POST /api/partitions answers it at once) and shown in the grid editor
 * with its comparison; for the chosen street, a background job (202, followed at
 * /api/jobs/ID) whose progress the panel shows, then the draft of each community.
 */
import { escapeHtml, fetchJson } from "./util.js";
import { formatNumber, t } from "./i18n.js";

const POLL_MS = 800;

export class Partitioner {
  /**
   * @param {object} options csrf; onDraft(plan) for a community's proposal;
   *   openDraft(community, plan) to show one draft of a street's job
   */
  constructor({ csrf, onDraft, openDraft }) {
    this.csrf = csrf;
    this.hooks = { onDraft, openDraft };
    this.unit = null;
    this.button = document.getElementById("partition-start");
    this.progress = document.getElementById("partition-progress");
    this.bar = document.getElementById("partition-bar");
    this.stage = document.getElementById("partition-stage");
    this.result = document.getElementById("partition-result");
    this.section = document.getElementById("editor");
    this.button.addEventListener("click", () => this.propose());
  }

  setUnit(level, code) {
    this.unit = level === "community" || level === "street" ? { level, code } : null;
    this.button.hidden = !this.unit;
    this.button.textContent = level === "street" ? t("Propose grids for every community")
      : t("Propose grids");
  }

  setState(state) { this.section.dataset.partition = state; }

  async propose() {
    const { level, code } = this.unit;
    this.result.textContent = "";
    this.button.disabled = true;
    this.setState("busy");
    try {
      const answer = await fetchJson("/api/partitions", {
        method: "POST", body: JSON.stringify({ [level]: code }),
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf },
      });
      if (level === "community") {
        this.result.textContent = t("Proposal kept as draft plan {plan}.", { plan: answer.id });
        await this.hooks.onDraft(answer);
        this.setState("done");
      } else {
        await this.follow(answer.job);
      }
    } catch (err) {
      this.result.innerHTML = `<p class="load-error" role="alert">${escapeHtml(err.message)}</p>`;
      this.setState("failed");
    } finally {
      this.button.disabled = false;
    }
  }

  /** Follow a street's job until it ends, showing its stage and progress. */
  async follow(job) {
    this.progress.hidden = false;
    this.stage.textContent = t("Waiting for a worker…");
    this.bar.removeAttribute("value");
    for (;;) {
      const status = await fetchJson(`/api/jobs/${job}`);
      if (status.total) {
        this.bar.max = status.total;
        this.bar.value = status.done || 0;
        this.stage.textContent = `${status.stage || ""} ${formatNumber(status.done || 0)}/` +
          `${formatNumber(status.total)}`;
      }
      if (status.status === "succeeded") {
        this.progress.hidden = true;
        this.showPlans(status.result.plans);
        this.setState("done");
        return;
      }
      if (status.status === "failed") {
        throw new Error(status.error || t("the job failed"));
      }
      await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
    }
  }

  showPlans(plans) {
    const rows = plans.map((p) => `<tr data-community="${escapeHtml(p.community)}">` +
      `<td>${escapeHtml(p.community)}</td><td>${escapeHtml(formatNumber(p.grids))}</td>` +
      `<td>${escapeHtml(formatNumber(p.violations.length))}</td><td><button type="button" ` +
      `data-plan="${escapeHtml(p.plan)}">${escapeHtml(t("Show"))}</button></td></tr>`).join("");
    this.result.innerHTML = `<h3>${escapeHtml(t("Draft plans"))}</h3><table class="edit-table">` +
      `<thead><tr><th>${escapeHtml(t("Community"))}</th><th>${escapeHtml(t("Grids"))}</th>` +
      `<th>${escapeHtml(t("Findings"))}</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
    this.result.querySelectorAll("button[data-plan]").forEach((button) => {
      button.addEventListener("click", async () => {
        const plan = await fetchJson(`/api/plans/${button.dataset.plan}`);
        await this.hooks.openDraft(plan.community, plan);
      });
    });
  }
}
