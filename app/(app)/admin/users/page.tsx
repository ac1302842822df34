import { TierSelect } from "@/components/admin/tier-select";
import { db } from "@/db";
import { listUsers } from "@/db/queries/users";
import { requireAdmin } from "@/server/auth/guards";

export const metadata = { title: "Users" };

export default async function AdminUsersPage() {
  await requireAdmin();
  const people = await listUsers(db);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Users</h1>
      <table className="w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-sm">
        <thead className="bg-slate-50 text-left text-slate-600">
          <tr>
            <th className="px-3 py-2 font-medium">Email</th>
            <th className="px-3 py-2 font-medium">Role</th>
            <th className="px-3 py-2 font-medium">Tier</th>
          </tr>
        </thead>
        <tbody>
          {people.map((person) => (
            <tr key={person.id} className="border-t border-slate-100">
              <td className="px-3 py-2">{person.email}</td>
              <td className="px-3 py-2">{person.role}</td>
              <td className="px-3 py-1">
                <TierSelect userId={person.id} email={person.email} tier={person.tier} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
